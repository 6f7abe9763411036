import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextLink } from './tags.ts';

const base = new URL('https://reg:5000/v2/app/tags/list?n=2');

test('Link rel="next", relative to the request URL', () => {
  assert.equal(nextLink('</v2/app/tags/list?last=b&n=2>; rel="next"', base)?.href, 'https://reg:5000/v2/app/tags/list?last=b&n=2');
  assert.equal(nextLink('<https://other/v2/x?last=z>; rel=next', base)?.href, 'https://other/v2/x?last=z');
});

test('other relations, several links and no header', () => {
  assert.equal(nextLink('</first>; rel="first", </p2>; rel="prev next"', base)?.href, 'https://reg:5000/p2');
  assert.equal(nextLink('</first>; rel="first"', base), undefined);
  assert.equal(nextLink('</nope>; rel="nextish"', base), undefined);
  assert.equal(nextLink(undefined, base), undefined);
  assert.equal(nextLink(['</a>; rel="prev"', '</b>; title="x"; rel="next"'], base)?.href, 'https://reg:5000/b');
});
