// The baseline for the listen throughput comparison: a bare node:http server that answers 200 to everything.
import http from 'node:http'

const server = http.createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    res.writeHead(200, {'content-type': 'application/json'})
    res.end('{"ok":true}')
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  process.stderr.write(`Ready: http://127.0.0.1:${server.address().port}/\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
