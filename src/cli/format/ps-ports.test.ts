import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Port } from '../../api/types/index.ts';
import { formatPsPorts } from './ps-ports.ts';

const p = (PrivatePort: number, Type: string, IP?: string, PublicPort?: number): Port =>
  ({ PrivatePort, Type, ...(IP ? { IP } : {}), ...(PublicPort ? { PublicPort } : {}) }) as Port;

test('formatPsPorts matches the docker ps PORTS column', () => {
  const ports = [p(80, 'tcp', '0.0.0.0', 8080), p(443, 'tcp'), p(9000, 'tcp', '0.0.0.0', 9000), p(9001, 'tcp', '0.0.0.0', 9001), p(9002, 'tcp', '0.0.0.0', 9002)];
  assert.equal(formatPsPorts(ports), '443/tcp, 0.0.0.0:9000-9002->9000-9002/tcp, 0.0.0.0:8080->80/tcp');
  assert.equal(formatPsPorts([p(80, 'tcp', '127.0.0.1', 8081)]), '127.0.0.1:8081->80/tcp');
  assert.equal(formatPsPorts([p(80, 'tcp', '::1', 8081)]), '[::1]:8081->80/tcp');
  assert.equal(formatPsPorts([]), '');
});
