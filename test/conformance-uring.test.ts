// The conformance suite (test/conformance.ts) on the io_uring host: one reactor, and
// main–sub reactors in both accept modes.
import { runConformance } from "./conformance.js";

runConformance(["uring", "uring threads", "uring handoff"]);
