#!/usr/bin/env node
// Finds headless Chromium for the browser test, installing Debian's package when it is
// missing (the test machine runs as root, with apt). Prints the binary's path.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

export function ensureChromium() {
  const found = CANDIDATES.find(existsSync);
  if (found) return found;
  const apt = (args) => execFileSync("apt-get", args, { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  try {
    apt(["update"]);
    apt(["install", "-y", "--no-install-recommends", "chromium"]);
  } catch (err) {
    throw new Error(`chromium is not installed and apt-get could not install it (${err.message}); run: apt-get install chromium`);
  }
  const installed = CANDIDATES.find(existsSync);
  if (!installed) throw new Error("apt-get installed chromium, but no binary was found");
  return installed;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(ensureChromium());
