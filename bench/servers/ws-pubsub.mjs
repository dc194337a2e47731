// The ws package's server doing pub/sub the way ws users do: a message from any client
// is sent to every open client (the sender too), one send per client.
import { WebSocketServer } from "ws";

const wss = new WebSocketServer({ host: "127.0.0.1", port: Number(process.argv[2] ?? 0), perMessageDeflate: false });
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => {
    for (const c of wss.clients) if (c.readyState === 1) c.send(data, { binary: isBinary });
  });
});
wss.on("listening", () => console.log(`listening ${wss.address().port}`));
process.on("SIGTERM", () => process.exit(0));
