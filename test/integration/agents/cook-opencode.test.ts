import { describeRealAgent } from "../../helpers/agent-scenario.js";

describeRealAgent("opencode");
