import { defineConfig } from "vite";

// No React plugin is needed to build: Vite 8 compiles JSX itself (automatic runtime).
export default defineConfig({
  oxc: { jsx: { runtime: "automatic" } },
  build: {
    chunkSizeWarningLimit: 4096,
    rolldownOptions: {
      onwarn(warning, warn) {
        // CopilotKit's dependencies mark modules "use client" for React Server Components; meaningless in a SPA.
        if (warning.code === "MODULE_LEVEL_DIRECTIVE") return;
        warn(warning);
      },
    },
  },
});
