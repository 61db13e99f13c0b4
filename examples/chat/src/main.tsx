import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "@copilotkit/react-core/v2/styles.css";
import "./styles.css";
import { App } from "./App";
import { IntelligenceApp } from "./IntelligenceApp";
import { readSettings } from "./settings";

const settings = readSettings();

createRoot(document.getElementById("root")!).render(
  <StrictMode>{settings.mode === "intelligence" ? <IntelligenceApp settings={settings} /> : <App settings={settings} />}</StrictMode>,
);
