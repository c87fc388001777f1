// The floor for `pdhooks webhook list --json`: the least a Node script can do for the same request (node:http, no
// dependencies): GET <PDHOOKS_PIPEDRIVE_URL>/webhooks with the token, print the webhooks as JSON.
import http from 'node:http'
import https from 'node:https'

const url = new URL(`${process.env.PDHOOKS_PIPEDRIVE_URL}/webhooks`)
const client = url.protocol === 'https:' ? https : http
client.get(url, {headers: {'x-api-token': process.env.PDHOOKS_PIPEDRIVE_TOKEN}}, res => {
  let body = ''
  res.setEncoding('utf8')
  res.on('data', chunk => {
    body += chunk
  })
  res.on('end', () => {
    process.stdout.write(JSON.stringify({webhooks: JSON.parse(body).data}, null, 2) + '\n')
  })
})
