// The conformance suite (test/conformance.ts) on the epoll, node:net, threaded and simulated hosts.
import { runConformance } from "./conformance.js";

runConformance(["native", "net", "sim", "threads", "handoff"]);
