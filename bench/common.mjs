// What the bench scripts share: core pinning, a process's CPU time, medians.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

// Two cores: the server gets one and the load client the other, for every peer alike.
export const pin = (() => {
  try {
    execFileSync("taskset", ["-c", "0", "true"]);
    return (cpus, cmd, args) => ["taskset", ["-c", String(cpus), cmd, ...args]];
  } catch {
    return (_cpu, cmd, args) => [cmd, args];
  }
})();

const TICKS_PER_SECOND = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in these

/** The process's user + system CPU seconds so far, all threads (fields 14 and 15 of /proc/<pid>/stat). */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** The process's resident memory in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) * 1024;
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
