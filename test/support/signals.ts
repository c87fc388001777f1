// For in-process tests that emit SIGINT / SIGTERM at a command: `conf`'s write library (when-exit) answers a signal it
// sees by sending the same signal to the process for real. While a command runs, its own handler takes that one; this
// keeps a late one from ending the mocha process once the command is done.
/* eslint-disable mocha/no-exports, mocha/no-top-level-hooks -- a helper: registers the hooks of the describe() calling it */
const ignore = () => {}

export function catchStraySignals(): void {
  before(() => {
    process.on('SIGINT', ignore)
    process.on('SIGTERM', ignore)
  })
  after(async () => {
    // a signal sent to the process is delivered after a turn of the event loop
    await new Promise(resolve => {
      setTimeout(resolve, 50)
    })
    process.off('SIGINT', ignore)
    process.off('SIGTERM', ignore)
  })
}
