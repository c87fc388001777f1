import * as Flags from '@oclif/core/flags'

import type {TemporarySession} from '../lib/deliveries/listen-session.js'

import {BaseCommand, timeoutFlag} from '../lib/cli/base-command.js'
import {
  basicAuthFlag, pipedriveFlags, pipelinerFlags, secret,
} from '../lib/cli/flags.js'
import {scrub} from '../lib/core/mask.js'
import {checkPipelinerKey} from '../lib/deliveries/signatures.js'
import {parseBasicAuth} from '../lib/deliveries/trigger.js'

/** A status line on stderr (also under --json, whose stdout carries the events), scrubbed of every known secret. */
const stderr = (line: string) => process.stderr.write(scrub(line) + '\n')

export default class Listen extends BaseCommand<typeof Listen, void> {
  static description = `Receive webhook deliveries on this machine: recognise, verify, print, journal and relay them.

Recognises Pipedrive v1 and v2 deliveries, Cloud Elements notifications and Pipeliner arrays. Each source is checked by its own method, in constant time: basic auth for Pipedrive (--basic-auth), Elements-Webhook-Signature for Cloud Elements (--elements-key), WebHook-Signature (hex or base64) for Pipeliner (--pipeliner-key); a failed check is answered 401. With no check configured everything is accepted; once any is configured, a delivery from a source without one is refused. Prints one line per event (or one JSON object per line with --json; anything a sender put in them is escaped), appends each accepted delivery to --journal (NDJSON, credentials, --redact-header headers and secret query parameters redacted, replayable), relays it to --forward-to and shows that endpoint's status and time.

With --register EVENT (Pipedrive, the grammar and version rules of "webhook add") and/or --pipeliner EVENT, it also registers temporary webhooks aimed at --public-url (or at the URL of --tunnel cloudflared|ngrok, started for the run) plus a random path token, with generated basic auth / a generated signature that it then enforces. They are named "pdhooks-listen <host> <pid> <started>" (Pipeliner: an options.skip_keys entry), deleted on every way out (Ctrl-C, SIGTERM, --max-events, an error; --keep leaves them), and leftovers of earlier runs on this host whose process is gone are swept at start. The quota is checked first (exit 5).

Nothing is acknowledged that is not kept: with --journal a delivery is answered 200 only once its line is written (--journal-sync: also flushed to the disk), and 503 (the sender retries) when it cannot be; with --forward-to, 503 when --forward-queue deliveries already wait for the target. Bodies over the limit get 413, malformed JSON 400, other methods 405, clients slower than --headers-timeout / --request-timeout 408. Ends with Ctrl-C (relays in progress get 5 s; a second Ctrl-C stops at once; what was not relayed is reported), or after --max-events accepted deliveries.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --port 4000 --basic-auth hooks:s3cret --journal deliveries.ndjson',
    '<%= config.bin %> <%= command.id %> --elements-key "$CE_SIGNATURE_KEY" --forward-to http://localhost:3000/events --journal deliveries.ndjson',
    '<%= config.bin %> <%= command.id %> --journal deliveries.ndjson --journal-sync --redact-header X-Hub-Signature',
    '<%= config.bin %> <%= command.id %> --pipeliner-key 01234567-abcd-dcba-ffff-000000000000 --max-events 1 --json',
    "<%= config.bin %> <%= command.id %> --register '*.deal' --tunnel cloudflared",
    "<%= config.bin %> <%= command.id %> --register change.person --register '*.deal' --public-url https://hooks.example.com --port 4000",
    "<%= config.bin %> <%= command.id %> --pipeliner 'Opportunity.*' --tunnel ngrok --journal deliveries.ndjson",
  ]
  static flags = {
    'basic-auth': basicAuthFlag('user:password that Pipedrive deliveries must carry.'),
    'elements-key': secret('elements-key', {description: 'Cloud Elements signature key (Elements-Webhook-Signature).'}),
    'forward-queue': Flags.integer({default: 1000, description: 'Deliveries that may wait for the --forward-to target; beyond, new ones get 503.', min: 1}),
    'forward-timeout': Flags.integer({default: 10, description: 'Seconds the --forward-to target has to answer one delivery.', min: 1}),
    'forward-to': Flags.string({description: 'Relay each accepted delivery to this URL.'}),
    'headers-timeout': Flags.integer({default: 10, description: 'Seconds a client has to send its request headers (408 after).', min: 1}),
    host: Flags.string({default: '127.0.0.1', description: 'Address to listen on.'}),
    journal: Flags.string({description: 'Append each accepted delivery to this NDJSON file; 200 only once its line is written.'}),
    keep: Flags.boolean({description: 'With --register / --pipeliner: leave the temporary webhooks on exit (named "pdhooks-listen-kept …": never swept).'}),
    'journal-sync': Flags.boolean({description: 'Also flush each batch of journal lines to the disk (fdatasync) before answering 200: survives a power cut, at a cost in throughput.'}),
    'max-body': Flags.integer({default: 1_048_576, description: 'Largest accepted body in bytes (413 above).', min: 1}),
    'max-events': Flags.integer({description: 'Exit 0 after this many accepted deliveries.', min: 1}),
    path: Flags.string({default: '/', description: 'Path that receives deliveries.'}),
    pipeliner: Flags.string({description: 'Register a temporary Pipeliner webhook for this event: *, Entity.* or Entity.Event (repeatable, or comma-separated).', multiple: true}),
    'pipeliner-key': secret('pipeliner-key', {description: 'Pipeliner signature (the webhook\'s UUID) for WebHook-Signature.'}),
    port: Flags.integer({
      default: 4000, description: 'Port (0 = any free port).', max: 65_535, min: 0,
    }),
    'public-url': Flags.string({description: 'With --register / --pipeliner: the public URL that reaches this listener (the path token is added to it).', exclusive: ['tunnel']}),
    'redact-header': Flags.string({description: 'Also redact this header in the journal (repeatable).', multiple: true}),
    register: Flags.string({description: "Register a temporary Pipedrive webhook for this event: ACTION.OBJECT as for webhook add, e.g. '*.deal' (repeatable).", multiple: true}),
    'request-timeout': Flags.integer({default: 30, description: 'Seconds a client has to send its whole request, body included (408 after).', min: 1}),
    tunnel: Flags.string({description: 'With --register / --pipeliner: start this tunnel program (on the PATH) and register against its public URL; stopped on exit.', options: ['cloudflared', 'ngrok']}),
    'tunnel-timeout': Flags.integer({default: 30, description: 'Seconds the tunnel program has to give its public URL.', min: 1}),
    'user-id': Flags.integer({description: 'With --register: the Pipedrive user whose permissions gate the events (as for webhook add).'}),
    version: Flags.string({description: 'With --register: Pipedrive webhook version (default: inferred, as for webhook add).', options: ['1.0', '2.0']}),
    ...pipedriveFlags,
    ...pipelinerFlags,
    timeout: timeoutFlag,
  }

  async run(): Promise<void> {
    const {flags} = this
    const basicAuth = parseBasicAuth(flags['basic-auth'])
    let pipelinerKey = flags['pipeliner-key'] === undefined ? undefined : checkPipelinerKey(flags['pipeliner-key'], '--pipeliner-key')
    // --register / --pipeliner: checked, credentials found and secrets made before anything listens
    let session: TemporarySession | undefined
    let {path} = flags
    let auth = basicAuth
    if (flags.register || flags.pipeliner || flags['public-url'] || flags.tunnel || flags.keep) {
      const {prepareSession} = await import('../lib/deliveries/listen-session.js')
      session = await prepareSession({
        basicAuth,
        keep: flags.keep,
        notify: stderr,
        path: this.fromCommandLine('path') ? flags.path : undefined,
        pipeliner: flags.pipeliner,
        pipelinerKey,
        publicUrl: flags['public-url'],
        register: flags.register,
        settings: this.settings(),
        timeoutMs: flags.timeout * 1000,
        tunnel: flags.tunnel as 'cloudflared' | 'ngrok' | undefined,
        tunnelTimeoutMs: flags['tunnel-timeout'] * 1000,
        userAgent: this.userAgent,
        userId: flags['user-id'],
        version: flags.version,
      })
      path = session.path
      auth = session.basicAuth
      pipelinerKey = session.pipelinerKey
    }

    const {formatEvent, formatRejection, NOT_FORWARDED, startListener} = await import('../lib/deliveries/listener.js')
    const {safeJson} = await import('../lib/deliveries/printable.js')
    const listener = await startListener({
      basicAuth: auth,
      elementsKey: flags['elements-key'],
      forwardQueue: flags['forward-queue'],
      forwardTimeoutMs: flags['forward-timeout'] * 1000,
      forwardTo: flags['forward-to'],
      headersTimeoutMs: flags['headers-timeout'] * 1000,
      host: flags.host,
      journal: flags.journal,
      journalSync: flags['journal-sync'],
      maxBodyBytes: flags['max-body'],
      maxEvents: flags['max-events'],
      path,
      pipelinerKey,
      port: flags.port,
      redactHeaders: flags['redact-header'],
      requestTimeoutMs: flags['request-timeout'] * 1000,
    })

    const json = this.jsonEnabled()
    // stdout lines are batched: one write per tick keeps the receiver fast under load
    let buffer: string[] = []
    const flush = () => {
      if (buffer.length === 0) return
      process.stdout.write(buffer.join(''))
      buffer = []
    }

    const out = (line: string) => {
      if (buffer.length === 0) setImmediate(flush)
      buffer.push(line + '\n')
    }

    // 503s of one cause come in floods (a full disk, a dead relay target): the first of a run is printed, the rest counted
    const quiet = new Set(['forward_queue_full', 'journal_behind', 'journal_unwritable', 'stopping'])
    const quietSeen = new Map<string, number>()
    const quietCounts = new Map<string, number>()
    // the deliveries whose relay was abandoned at Ctrl-C (what to replay)
    const unrelayed = new Set<string>()
    listener.on('event', e => {
      if (e.forward?.error === NOT_FORWARDED) unrelayed.add(e.id)
      out(json ? safeJson(e) : formatEvent(e))
    })
    listener.on('rejected', r => {
      if (json) {
        out(safeJson({rejected: r}))
        return
      }

      if (quiet.has(r.code)) {
        quietCounts.set(r.code, (quietCounts.get(r.code) ?? 0) + 1)
        // a journal that cannot be written is said once, by the warning
        if (r.code === 'journal_unwritable' || quietSeen.get(r.code) === listener.admitted) return
        quietSeen.set(r.code, listener.admitted)
        stderr(`${formatRejection(r)} (repeats are counted, not shown, until a delivery is accepted)`)
        return
      }

      stderr(formatRejection(r))
    })
    listener.on('error', error => stderr(`Warning: ${error.message}`))
    listener.on('notice', message => stderr(message))
    if (listener.acceptsAll) stderr('No check configured: every delivery is accepted (use --basic-auth, --elements-key or --pipeliner-key).')
    if (flags.journal) stderr(`Journal: ${flags.journal}${flags['journal-sync'] ? ' (synced to the disk before each answer)' : ''}`)
    if (listener.forwardTarget) stderr(`Relaying to ${listener.forwardTarget}`)
    try {
      if (session) {
        // registers (the listener already listens: a delivery may come at once); every failure deletes what was made
        await session.start(listener)
        stderr(`Ready: ${listener.url} (public: ${session.url})`)
        await session.serve()
      } else {
        stderr(`Ready: ${listener.url}`)
        await this.untilStopped(new Promise<void>(resolve => {
          listener.once('done', () => resolve())
        }))
      }

      // a second Ctrl-C ends the grace given to relays in progress
      const now = () => listener.interrupt()
      if (!session) {
        process.on('SIGINT', now)
        process.on('SIGTERM', now)
      }

      if (listener.unrelayed > 0) {
        const n = listener.unrelayed
        stderr(`Stopping: waiting up to 5 s for ${n} ${n === 1 ? 'relay' : 'relays'} in progress (Ctrl-C again to stop now).`)
      }

      const {unforwarded} = await listener.close()
      process.off('SIGINT', now)
      process.off('SIGTERM', now)
      flush()
      const {accepted, rejected} = listener.stats
      if (!json) {
        const floods = [...quietCounts].map(([code, n]) => `${n} ${code.replaceAll('_', ' ')}`)
        stderr(`Stopped: ${accepted} accepted, ${rejected} rejected${floods.length > 0 ? ` (503: ${floods.join(', ')})` : ''}.`)
      }

      if (unforwarded > 0) {
        const ids = [...unrelayed]
        const which = ids.length <= 10 ? ` (${ids.join(', ')})` : ` (their ids: the events marked "${NOT_FORWARDED}" in --json output)`
        const kept = flags.journal
          ? `They are in the journal: pdhooks replay --journal ${flags.journal} --to ${listener.forwardTarget} --id ID${which}`
          : 'They were answered 200 and are not kept anywhere: use --journal to keep deliveries for replay.'
        stderr(`Warning: ${unforwarded} accepted ${unforwarded === 1 ? 'delivery was' : 'deliveries were'} not forwarded to ${listener.forwardTarget} (stopped before the target answered). ${kept}`)
      }
    } catch (error) {
      // whatever fails after the registrations, they are deleted (finish() does nothing after a failed start)
      await session?.finish()
      throw error
    }

    // the temporary webhooks are deleted last (after the relays' grace): the exit lines say what was deleted
    const cleanupError = session ? await session.finish() : undefined
    if (cleanupError) throw cleanupError
  }
}
