// The node:net peer: the plainest echo server Node offers.
import net from "node:net";

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.pipe(socket);
  socket.on("error", () => socket.destroy());
});
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  console.log(`listening ${server.address().port}`);
});
process.on("SIGTERM", () => process.exit(0));
