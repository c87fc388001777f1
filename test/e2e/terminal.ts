// A real pseudo-terminal for the e2e suite: the built CLI runs inside tmux (its own server socket, so nothing else's
// tmux is touched), the test types keys and reads the screen as a user sees it.

import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {sleep} from '../support/wait.js'
import {binRun, cleanEnv, root} from './helpers.js'

const SOCKET = `pdhooks-test-${process.pid}`
let sessions = 0

const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', SOCKET, ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})

/** Is tmux on this machine? */
export function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

export interface Terminal {
  /** What the terminal shows now (plain text, trailing blank lines dropped); `joined` undoes the wrapping of long lines. */
  screen(opts?: {joined?: boolean}): string
  /** Types keys (tmux names: 'C-c', 'Enter', 'y'…) or literal text with `{literal: true}`. */
  send(keys: string[] | string, opts?: {literal?: boolean}): void
  /** Resolves with the screen once it matches `what`. */
  waitFor(what: RegExp | string, timeoutMs?: number): Promise<string>
  /** Resolves with the command's exit code once it ended. */
  exit(timeoutMs?: number): Promise<number>
  close(): void
}

/**
 * Runs `pdhooks …args` in a new tmux window of `cols` × `rows`, with `env` added to a clean environment (no CI, so
 * pdhooks sees a terminal and may ask).
 */
export function terminal(args: string[], opts: {cols?: number; env?: Record<string, string>; rows?: number} = {}): Terminal {
  const dir = mkdtempSync(join(tmpdir(), 'pdhooks-tty-'))
  const env: Record<string, string> = {...cleanEnv(), TERM: 'xterm-256color', ...opts.env}
  delete env.CI
  delete env.NO_COLOR
  const q = (s: string) => `'${s.replaceAll("'", String.raw`'\''`)}'`
  // env -i: the tmux server's own environment (the test process's, NODE_ENV=test and CI included) is not inherited
  const vars = Object.entries(env).filter(([k]) => /^\w+$/.test(k)).map(([k, v]) => `${k}=${q(v)}`)
  const script = [
    `cd ${q(root)}`,
    `env -i ${vars.join(' ')} ${q(process.execPath)} ${q(binRun)} ${args.map(a => q(a)).join(' ')}`,
    'echo "__EXIT:$?__"',
    'sleep 600',
  ].join('\n')
  writeFileSync(join(dir, 'run.sh'), script)
  const name = `t${++sessions}`
  tmux('new-session', '-d', '-s', name, '-x', String(opts.cols ?? 80), '-y', String(opts.rows ?? 24), `sh ${join(dir, 'run.sh')}`)
  const t: Terminal = {
    screen: (o = {}) => tmux('capture-pane', '-p', ...(o.joined ? ['-J'] : []), '-t', name).replace(/\s+$/, ''),
    send(keys, o = {}) {
      tmux('send-keys', '-t', name, ...(o.literal ? ['-l'] : []), ...(Array.isArray(keys) ? keys : [keys]))
    },
    async waitFor(what, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs
      for (;;) {
        const s = t.screen()
        if (typeof what === 'string' ? s.includes(what) : what.test(s)) return s
        if (Date.now() > end) throw new Error(`timed out waiting for ${what} on the terminal:\n${s}`)
        await sleep(50)
      }
    },
    async exit(timeoutMs = 10_000) {
      const s = await t.waitFor(/__EXIT:\d+__/, timeoutMs)
      return Number(/__EXIT:(\d+)__/.exec(s)![1])
    },
    close() {
      try {
        tmux('kill-session', '-t', name)
      } catch {}

      rmSync(dir, {force: true, recursive: true})
    },
  }
  return t
}

/** Stops this process's tmux server (after the suite). */
export function closeTerminals(): void {
  try {
    tmux('kill-server')
  } catch {}
}
