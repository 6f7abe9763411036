import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceMapping } from '../../api/types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { resolveDevices } from './resource-devices.ts';

test('a device mapping without PathOnHost (Go\'s zero value) is a missing device, not a crash', async () => {
  await assert.rejects(resolveDevices([{} as DeviceMapping]), (err: unknown) => err instanceof EngineError && err.kind === 'NotFound'
    && err.message === 'error gathering device information while adding custom device "": no such file or directory');
});
