// Running a command in-process (so nock sees its requests), and replacing its prompts.
import {Config} from '@oclif/core'
import {runCommand} from '@oclif/test'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {prompts} from '../../src/lib/cli/prompts.js'
import {forgetSecrets} from '../../src/lib/core/mask.js'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
let config: Config | undefined

export interface RunResult<T = any> {
  error?: Error & {oclif?: {exit?: number}}
  exit: number
  result?: T
  stderr: string
  stdout: string
  /**
   * stdout parsed as one JSON document (fails the test when it is not exactly one). Give the command's exported result
   * type to check its shape at compile time: `r.json<WebhookListResult>()`.
   */
  json<J = T>(): J
}

/**
 * Runs a pdhooks command in-process (so nock sees its requests) with extra environment variables, and returns its
 * output and exit code.
 */
export async function run<T = any>(args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult<T>> {
  config ??= await Config.load({root})
  const saved: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k]
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }

  process.exitCode = undefined
  try {
    const quoted = args.map(a => (/[\s"'*]/.test(a) ? `"${a.replaceAll('"', String.raw`\"`)}"` : a))
    const out = await runCommand<T>(quoted, config)
    const exit = out.error ? ((out.error as any).oclif?.exit ?? 1) : (typeof process.exitCode === 'number' ? process.exitCode : 0)
    return {
      ...out,
      error: out.error as RunResult['error'],
      exit,
      json<J>(): J {
        try {
          return JSON.parse(out.stdout) as J
        } catch (error) {
          throw new Error(`stdout is not exactly one JSON document (${(error as Error).message})\nstdout: ${out.stdout}\nstderr: ${out.stderr}`)
        }
      },
    }
  } finally {
    process.exitCode = undefined
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }

    forgetSecrets()
  }
}

/** Replaces prompt-wrapper members for one test; returns a restore function. */
export function stubPrompts(stubs: Partial<typeof prompts>): () => void {
  const saved = {...prompts}
  Object.assign(prompts, stubs)
  return () => Object.assign(prompts, saved)
}

/** A terminal whose confirmations all answer `answer`; `questions` records each question asked. */
export function stubConfirm(answer: boolean): {questions: string[]; restore: () => void} {
  const questions: string[] = []
  const restore = stubPrompts({
    async confirm(m: string) {
      questions.push(m)
      return answer
    },
    interactive: () => true,
  })
  return {questions, restore}
}
