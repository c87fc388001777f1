// A forward target that accepts connections and never answers (for the bench's bounded-relay check of listen).
import net from 'node:net'

const sockets = new Set()
const server = net.createServer(socket => {
  sockets.add(socket)
  socket.on('error', () => {})
  socket.on('close', () => sockets.delete(socket))
  socket.resume()
})
server.listen(0, '127.0.0.1', () => {
  process.stderr.write(`Ready: http://127.0.0.1:${server.address().port}/\n`)
})
process.on('SIGTERM', () => {
  for (const s of sockets) s.destroy()
  process.exit(0)
})
