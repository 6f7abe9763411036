import { type Schema, array, bool, int, str, strings, struct } from '../body-schema.ts';

// Exec bodies as dockerd decodes them (API 1.47: container.ExecOptions and ExecStartOptions).

const consoleSize = (): Schema => array(int('uint'));

/** POST /containers/{id}/exec. Cmd is a plain []string here, not a strslice. */
export const execCreateSchema = (): Schema => struct({
  User: str(),
  Privileged: bool(),
  Tty: bool(),
  ConsoleSize: consoleSize(),
  AttachStdin: bool(),
  AttachStderr: bool(),
  AttachStdout: bool(),
  Detach: bool(),
  DetachKeys: str(),
  Env: strings(),
  WorkingDir: str(),
  Cmd: strings(),
});

/** POST /exec/{id}/start. */
export const execStartSchema = (): Schema => struct({ Detach: bool(), Tty: bool(), ConsoleSize: consoleSize() });
