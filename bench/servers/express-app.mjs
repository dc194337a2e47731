// The Express app both Express peers serve: GET / says hello, as every peer of the
// HTTP bench does (plus Express's own routing and response helpers on the path).
import express from "express";

export function helloApp() {
  const app = express();
  app.set("etag", false);
  app.get("/", (req, res) => {
    res.type("text/plain").send("Hello, World!");
  });
  return app;
}
