import {expect} from 'chai'
import {chmodSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'

import {cloudflaredUrl, findOnPath, ngrokTunnelUrl} from '../../../src/lib/deliveries/tunnel.js'

describe('deliveries/tunnel: reading the public URL', () => {
  it('cloudflared: the quick-tunnel URL from its banner, never the API host its errors name', () => {
    expect(cloudflaredUrl('2026-12-02T00:00:00Z INF |  https://seasonal-deck-organisms-sf.trycloudflare.com                 |')).to.equal('https://seasonal-deck-organisms-sf.trycloudflare.com')
    expect(cloudflaredUrl('ERR failed to request quick Tunnel: Post "https://api.trycloudflare.com/tunnel": EOF')).to.equal(undefined)
    expect(cloudflaredUrl('INF Requesting new quick Tunnel on trycloudflare.com...')).to.equal(undefined)
    expect(cloudflaredUrl('INF https://evil.trycloudflare.com.attacker.net')).to.equal(undefined)
  })

  it('ngrok: the tunnel that forwards to this port, never another ngrok\'s', () => {
    const doc = {
      tunnels: [
        {config: {addr: 'http://localhost:3000'}, public_url: 'https://other.ngrok-free.app'},
        {config: {addr: 'http://127.0.0.1:4000'}, public_url: 'http://mine.ngrok-free.app'},
        {config: {addr: 'http://127.0.0.1:4000'}, public_url: 'https://mine.ngrok-free.app'},
      ],
    }
    expect(ngrokTunnelUrl(doc, 4000)).to.equal('https://mine.ngrok-free.app')
    expect(ngrokTunnelUrl(doc, 40)).to.equal(undefined)
    expect(ngrokTunnelUrl({tunnels: [{config: {addr: 'localhost:5000'}, public_url: 'https://x.ngrok.app'}]}, 5000)).to.equal('https://x.ngrok.app')
    expect(ngrokTunnelUrl({tunnels: 'no'}, 4000)).to.equal(undefined)
    expect(ngrokTunnelUrl(null, 4000)).to.equal(undefined)
  })

  it('findOnPath: only executable files', () => {
    const a = mkdtempSync(join(tmpdir(), 'pdhooks-path-a-'))
    const b = mkdtempSync(join(tmpdir(), 'pdhooks-path-b-'))
    writeFileSync(join(a, 'cloudflared'), 'not executable')
    writeFileSync(join(b, 'cloudflared'), '#!/bin/sh\n')
    chmodSync(join(b, 'cloudflared'), 0o755)
    expect(findOnPath('cloudflared', [a, b].join(delimiter))).to.equal(join(b, 'cloudflared'))
    expect(findOnPath('cloudflared', a)).to.equal(undefined)
    expect(findOnPath('ngrok', '')).to.equal(undefined)
  })
})
