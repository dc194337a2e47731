// The request handler the workers run: a module whose default export is (req, res) => ….
function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

export default function handler(req, res) {
  const match = /^\/fib\/(\d+)$/.exec(req.url);
  if (!match || Number(match[1]) > 35) {
    res.statusCode = 404;
    res.end("try /fib/30\n");
    return;
  }
  res.end(`${fib(Number(match[1]))}\n`);
}
