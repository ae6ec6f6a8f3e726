import { describeRealAgent } from "../../helpers/agent-scenario.js";

describeRealAgent("codex");
