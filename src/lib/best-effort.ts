/** The one method bestEffort needs of a logger (pino's shape: fields first, then the message). */
export interface WarnLog { warn(fields: object, message?: string): void }

/**
 * Runs a cleanup step whose failure must not stop the caller (an unmount after a failed start, a
 * runtime record deleted while a container goes) and logs why it failed, with the object it was
 * for, instead of swallowing the error: a leak left behind is then found in the log, not guessed.
 * Never throws. `what` names the step ("unmount rootfs"), `id` the object (a container ID), or ''.
 * @returns true when the step succeeded, false when it failed (and was logged)
 */
export async function bestEffort(log: WarnLog, what: string, id: string, fn: () => unknown): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (err) {
    log.warn(id ? { err, id } : { err }, what);
    return false;
  }
}
