import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayWidth, tabwrite, tabwriter } from './tabwriter.ts';

// Expected outputs come from Go's text/tabwriter.NewWriter(out, 10, 1, 3, ' ', 0), docker's settings.
const GO_VERIFIED: Array<[string, string]> = [
  ['CONTAINER ID\tIMAGE\tNAMES\nabc\tbusybox\tx\nlongerlongerlonger\ta\tyy\n', 'CONTAINER ID         IMAGE     NAMES\nabc                  busybox   x\nlongerlongerlonger   a         yy\n'],
  ['a\tb\tc\nno tabs here\nd\te\tf\n', 'a         b         c\nno tabs here\nd         e         f\n'],
  ['h1\th2\n\n\tempty first\n', 'h1        h2\n\n          empty first\n'],
  ['x\ty\nonly\n', 'x         y\nonly\n'],
  ['', ''],
  ['single\n', 'single\n'],
  ['a\tb\t\nc\td\t\n', 'a         b         \nc         d         \n'],
];

for (const [input, expected] of GO_VERIFIED) {
  test(`tabwrite ${JSON.stringify(input)}`, () => assert.equal(tabwrite(input), expected));
}

test('column blocks: a line without the column ends the block, widths restart', () => {
  assert.equal(tabwrite('aaaaaaaaaaaaaaa\tb\nshort\n'), 'aaaaaaaaaaaaaaa   b\nshort\n');
  assert.equal(tabwrite('a\tb\nrow\nlonger-than-ten\tc\n'), 'a         b\nrow\nlonger-than-ten   c\n');
});

test('wide characters count double, as docker\'s tabwriter fork (go-runewidth) measures them', () => {
  assert.equal(displayWidth('日本語'), 6);
  assert.equal(displayWidth('e\u0301'), 1);
  assert.equal(displayWidth('…'), 1);
  assert.equal(tabwrite('αβγ\t日本語\tz\nq\tw\te\n'), 'αβγ       日本語    z\nq         w         e\n');
});

test('tabwriter(rows): the last column is not padded', () => {
  assert.equal(tabwriter([['VOLUME NAME', 'DRIVER'], ['local', 'data']]), 'VOLUME NAME   DRIVER\nlocal         data\n');
});
