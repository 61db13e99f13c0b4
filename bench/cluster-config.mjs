// The config `bench/cluster.mjs` starts `copilot-runtime serve --workers N` with: the bench's
// `short` agent (~50 events, one macrotask hop apart) as "default".
import { ShortAgent } from "./lib/agents.mjs";

export default { agents: { default: new ShortAgent({ agentId: "default" }) } };
