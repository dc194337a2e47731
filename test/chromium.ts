// Where headless Chromium is. Tests never install system packages: .ci/run installs
// Debian's chromium; elsewhere the test fails with the one line that says what to do.
import { existsSync } from "node:fs";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

export function findChromium(): string {
  const found = CANDIDATES.find(existsSync);
  if (!found) throw new Error("Chromium is not installed: apt-get install chromium (.ci/run does this)");
  return found;
}
