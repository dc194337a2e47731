// The conformance suite (test/conformance.ts) on the io_uring host with whole-buffer
// receives: the path of kernels before 6.12 (no incremental buffer consumption), forced
// here for this whole process.
import { runConformance } from "./conformance.js";

process.env.WASM_REACTOR_IO_URING = "fixed";
runConformance(["uring"]);
