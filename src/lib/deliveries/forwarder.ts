/**
 * The relay behind `listen --forward-to`: a bounded queue of deliveries sent to the target by a fixed number of
 * workers, each request with a hard deadline.
 * - Memory is bounded: at most `capacity` deliveries (and `maxBytes` of bodies) wait or travel at once; `reserve()`
 *   says no beyond that, and the listener answers the sender 503 (it retries later) instead of queueing without end.
 * - A target that never answers costs `concurrency` sockets for `timeoutMs` each, nothing more.
 * - `stop(graceMs)` lets what is queued and in flight finish for a while, then aborts the rest and says how many were
 *   not forwarded.
 */
import type {OutgoingHttpHeaders} from 'node:http'

import http from 'node:http'
import https from 'node:https'

import {sendRaw, type SendResult} from './send.js'

export interface ForwardJob {
  body: Buffer
  headers: OutgoingHttpHeaders
  method: string
  /** Called once: with the target's answer, or `{status: null, error}` when it failed, timed out or was dropped. */
  done: (result: SendResult & {dropped?: boolean}) => void
}

export interface ForwarderOptions {
  /** Deliveries waiting or in flight at most. Default 1000. */
  capacity?: number
  /** Requests in flight to the target at once. Default 16. */
  concurrency?: number
  /** Body bytes waiting or in flight at most. Default 64 MiB. */
  maxBytes?: number
  /** Time allowed to one request, from sending to the end of the answer, in ms. Default 10,000. */
  timeoutMs?: number
}

export const NOT_FORWARDED = 'not forwarded: the listener stopped'

export class Forwarder {
  readonly capacity: number
  /** Deliveries dropped by stop() (never answered by the target). */
  dropped = 0
  private active = 0
  private readonly agent: http.Agent
  private bytes = 0
  private readonly concurrency: number
  private readonly controllers = new Set<AbortController>()
  private idle: Array<() => void> = []
  private readonly maxBytes: number
  private readonly queue: ForwardJob[] = []
  private queueHead = 0
  private reserved = 0
  private stopping = false
  private readonly timeoutMs: number
  private readonly url: URL

  constructor(url: URL, opts: ForwarderOptions = {}) {
    this.url = url
    this.capacity = opts.capacity ?? 1000
    this.concurrency = opts.concurrency ?? 16
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024
    this.timeoutMs = opts.timeoutMs ?? 10_000
    this.agent = new (url.protocol === 'https:' ? https.Agent : http.Agent)({keepAlive: true, maxSockets: this.concurrency})
  }

  /** Deliveries reserved, waiting or in flight. */
  get pending(): number {
    return this.reserved + this.active + this.queue.length - this.queueHead
  }

  /** Forwards a delivery that holds a reservation. */
  push(job: ForwardJob): void {
    this.reserved--
    if (this.stopping) {
      this.release(job.body.length)
      this.dropped++
      job.done({
        dropped: true, error: NOT_FORWARDED, ms: 0, status: null,
      })
      return
    }

    this.queue.push(job)
    this.pump()
  }

  /** Gives back a reservation that will not be pushed (the delivery was refused after all). */
  release(bytes: number): void {
    this.bytes -= bytes
    this.notifyIdle()
  }

  /** Holds a place for a delivery of `bytes`; false when the queue is full (answer the sender 503). */
  reserve(bytes: number): boolean {
    if (this.stopping || this.pending >= this.capacity || (this.bytes + bytes > this.maxBytes && this.pending > 0)) return false
    this.reserved++
    this.bytes += bytes
    return true
  }

  /**
   * Waits up to `graceMs` for what is waiting and in flight (new reservations are refused from now on), then aborts
   * the rest. Resolves with the number of deliveries that were not forwarded. `now()` on the returned handle ends the
   * grace early (a second Ctrl-C).
   */
  stop(graceMs: number): {done: Promise<number>; now: () => void} {
    this.stopping = true
    let cut!: () => void
    const cutShort = new Promise<void>(resolve => {
      cut = resolve
    })
    const done = (async () => {
      if (this.pending > 0) {
        let timer: NodeJS.Timeout | undefined
        await Promise.race([
          new Promise<void>(resolve => {
            this.idle.push(resolve)
          }),
          new Promise<void>(resolve => {
            timer = setTimeout(resolve, graceMs)
          }),
          cutShort,
        ])
        clearTimeout(timer)
      }

      this.abortAll()
      // aborted requests settle (and are counted) on their next tick
      if (this.active > 0) {
        await new Promise<void>(resolve => {
          this.idle.push(resolve)
        })
      }

      this.agent.destroy()
      return this.dropped
    })()
    return {done, now: cut}
  }

  private abortAll(): void {
    const waiting = this.queue.splice(this.queueHead)
    this.queue.length = 0
    this.queueHead = 0
    for (const job of waiting) {
      this.bytes -= job.body.length
      this.dropped++
      job.done({
        dropped: true, error: NOT_FORWARDED, ms: 0, status: null,
      })
    }

    for (const c of this.controllers) c.abort()
  }

  private notifyIdle(): void {
    if (this.pending === 0 && this.idle.length > 0) {
      const {idle} = this
      this.idle = []
      for (const w of idle) w()
    }
  }

  private pump(): void {
    while (this.active < this.concurrency && this.queueHead < this.queue.length) {
      const job = this.queue[this.queueHead]
      this.queue[this.queueHead++] = undefined as unknown as ForwardJob
      if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue.splice(0, this.queueHead)
        this.queueHead = 0
      }

      this.active++
      const controller = new AbortController()
      this.controllers.add(controller)
      sendRaw(this.url, {
        agent: this.agent,
        body: job.body,
        headers: job.headers,
        method: job.method,
        signal: controller.signal,
        timeoutMs: this.timeoutMs,
      }).then(result => {
        this.controllers.delete(controller)
        this.active--
        this.bytes -= job.body.length
        if (controller.signal.aborted) {
          this.dropped++
          job.done({...result, dropped: true, error: NOT_FORWARDED})
        } else job.done(result)
        this.pump()
        this.notifyIdle()
      })
    }
  }
}
