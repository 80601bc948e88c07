// Request parser spec cases (RFC 9112 / 9110). Each runs whole, at every split point and byte by byte.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_HTTP_LIMITS, HttpRequestParser, resolveLimits } from '../../src/http/index.ts';
import { dec, enc, expectError, expectRequests } from './helpers.ts';

const GET = 'GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n';

describe('request line', () => {
  it('parses a minimal GET', () => {
    const [r] = expectRequests(GET);
    assert.equal(r.method, 'GET');
    assert.equal(r.target, '/latest/meta-data/');
    assert.equal(r.version, '1.1');
    assert.deepEqual(r.headers, [['host', '169.254.169.254']]);
    assert.deepEqual({ ...r.headerMap }, { host: '169.254.169.254' });
    assert.equal(r.body.length, 0);
    assert.equal(r.keepAlive, true);
  });

  it('accepts HTTP/1.0 without Host', () => {
    const [r] = expectRequests('GET / HTTP/1.0\r\n\r\n');
    assert.equal(r.version, '1.0');
    assert.equal(r.keepAlive, false);
  });

  it('accepts any token method and asterisk-form with OPTIONS', () => {
    assert.equal(expectRequests('PUT /api/token HTTP/1.1\r\nHost: x\r\n\r\n')[0].method, 'PUT');
    assert.equal(expectRequests("M-X!#$%&'*+.^_`|~ / HTTP/1.1\r\nHost: x\r\n\r\n")[0].method, "M-X!#$%&'*+.^_`|~");
    assert.equal(expectRequests('OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n')[0].target, '*');
  });

  it('skips empty lines before the request line', () => {
    assert.equal(expectRequests(`\r\n\r\n${GET}`).length, 1);
  });

  const badLines: Array<[string, string]> = [
    ['missing version', 'GET /\r\n'],
    ['lower-case version', 'GET / http/1.1\r\n'],
    ['two spaces', 'GET  / HTTP/1.1\r\n'],
    ['space in target', 'GET /a b HTTP/1.1\r\n'],
    ['trailing space', 'GET / HTTP/1.1 \r\n'],
    ['tab separator', 'GET\t/ HTTP/1.1\r\n'],
    ['method not a token', 'G@T / HTTP/1.1\r\n'],
    ['empty method', ' / HTTP/1.1\r\n'],
    ['control byte in target', 'GET /\x01 HTTP/1.1\r\n'],
    ['DEL in target', 'GET /\x7f HTTP/1.1\r\n'],
    ['absolute-form (not a proxy)', 'GET http://169.254.169.254/ HTTP/1.1\r\n'],
    ['authority-form', 'CONNECT host:80 HTTP/1.1\r\n'],
    ['asterisk without OPTIONS', 'GET * HTTP/1.1\r\n'],
    ['two-digit version', 'GET / HTTP/1.10\r\n'],
    ['bare LF', 'GET / HTTP/1.1\n'],
    ['bare LF empty line', '\nGET / HTTP/1.1\r\n'],
    ['garbage', 'hello\r\n'],
  ];
  for (const [name, line] of badLines) {
    it(`rejects ${name} with 400 bad-request-line`, () => expectError(line, 400, 'bad-request-line'));
  }

  it('rejects non-ASCII in the target', () => {
    expectError(new Uint8Array([...enc('GET /'), 0xc3, 0xa9, ...enc(' HTTP/1.1\r\n')]), 400, 'bad-request-line');
  });

  it('answers 505 unsupported-version for other HTTP versions', () => {
    expectError('GET / HTTP/2.0\r\n', 505, 'unsupported-version');
    expectError('GET / HTTP/0.9\r\n', 505, 'unsupported-version');
    expectError('GET / HTTP/1.2\r\n', 505, 'unsupported-version');
  });
});

describe('headers', () => {
  it('lower-cases names, trims optional whitespace, keeps order and obs-text', () => {
    const input = new Uint8Array([
      ...enc(
        'GET / HTTP/1.1\r\nHost: x\r\nX-aws-ec2-metadata-token-TTL-seconds: \t 21600 \t\r\nX-Empty:\r\nX-Latin: a',
      ),
      0xe9,
      ...enc(' b\r\n\r\n'),
    ]);
    const [r] = expectRequests(input);
    assert.deepEqual(r.headers, [
      ['host', 'x'],
      ['x-aws-ec2-metadata-token-ttl-seconds', '21600'],
      ['x-empty', ''],
      ['x-latin', 'a\u00e9 b'],
    ]);
  });

  it('joins duplicate fields with ", " in headerMap and keeps them apart in headers', () => {
    const [r] = expectRequests('GET / HTTP/1.1\r\nHost: x\r\nAccept: a\r\naccept: b\r\n\r\n');
    assert.equal(r.headerMap['accept'], 'a, b');
    assert.deepEqual(r.headers.slice(1), [
      ['accept', 'a'],
      ['accept', 'b'],
    ]);
  });

  it('rejects obs-fold with 400 obs-fold', () => {
    expectError('GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n', 400, 'obs-fold');
    expectError('GET / HTTP/1.1\r\n\tHost: x\r\n\r\n', 400, 'obs-fold');
  });

  const badHeaders: Array<[string, string]> = [
    ['whitespace before colon', 'Host : x'],
    ['tab before colon', 'Host\t: x'],
    ['no colon', 'Host x'],
    ['empty name', ': x'],
    ['name not a token', 'Ho(st: x'],
    ['NUL in value', 'X-A: a\x00b'],
    ['bare CR in value', 'X-A: a\rb'],
    ['DEL in value', 'X-A: a\x7f'],
  ];
  for (const [name, line] of badHeaders) {
    it(`rejects ${name} with 400 bad-header`, () =>
      expectError(`GET / HTTP/1.1\r\nHost: x\r\n${line}\r\n\r\n`, 400, 'bad-header'));
  }

  it('rejects bare LF in the header section', () => {
    expectError('GET / HTTP/1.1\r\nHost: x\n\r\n', 400, 'bad-header');
    expectError('GET / HTTP/1.1\r\nHost: x\r\n\n', 400, 'bad-header');
  });

  it('requires Host on HTTP/1.1', () => {
    expectError('GET / HTTP/1.1\r\n\r\n', 400, 'missing-host');
    expectError('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400, 'bad-host');
  });
});

describe('body framing', () => {
  it('collects a Content-Length body before the request event', () => {
    const [r] = expectRequests('PUT /api/token HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello');
    assert.equal(dec(r.body), 'hello');
    assert.equal(r.headerMap['content-length'], '5');
  });

  it('waits for the whole body', () => {
    const parser = new HttpRequestParser();
    assert.deepEqual(parser.push(enc('PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel')), []);
    assert.equal(parser.bufferedBytes, 'PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel'.length);
    const events = parser.push(enc('lo'));
    assert.equal(events.length, 1);
    assert.equal(parser.bufferedBytes, 0);
  });

  it('accepts identical duplicate Content-Length, rejects differing ones', () => {
    const [r] = expectRequests('PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 02\r\n\r\nab');
    assert.equal(dec(r.body), 'ab');
    assert.equal(r.headerMap['content-length'], '2');
    expectError(
      'PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab',
      400,
      'bad-content-length',
    );
  });

  for (const value of ['-1', '+1', '1.0', '0x10', '1 2', '5, 5', '', 'abc']) {
    it(`rejects Content-Length "${value}"`, () => {
      expectError(`PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: ${value}\r\n\r\n`, 400, 'bad-content-length');
    });
  }

  it('rejects any Transfer-Encoding', () => {
    expectError(
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      'transfer-encoding-not-supported',
    );
    expectError(
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: gzip\r\n\r\n',
      400,
      'transfer-encoding-not-supported',
    );
  });

  it('answers 413 body-too-large exactly one past the limit', () => {
    const ok = expectRequests('PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd', { maxBodyBytes: 4 });
    assert.equal(ok[0].body.length, 4);
    expectError('PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n', 413, 'body-too-large', { maxBodyBytes: 4 });
    expectError('PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n', 413, 'body-too-large');
  });
});

describe('keep-alive', () => {
  const cases: Array<[string, string, boolean]> = [
    ['1.1', '', true],
    ['1.1', 'Connection: close\r\n', false],
    ['1.1', 'Connection: CLOSE\r\n', false],
    ['1.1', 'Connection: keep-alive, Close\r\n', false],
    ['1.1', 'Connection: upgrade\r\nConnection: close\r\n', false],
    ['1.1', 'Connection: closed\r\n', true],
    ['1.0', '', false],
    ['1.0', 'Connection: keep-alive\r\n', true],
    ['1.0', 'Connection: Keep-Alive \r\n', true],
    ['1.0', 'Connection: foo ,keep-alive\r\n', true],
    ['1.0', 'Connection: keep-alive, close\r\n', false],
  ];
  for (const [version, header, expected] of cases) {
    it(`HTTP/${version} ${JSON.stringify(header)} → keepAlive ${expected}`, () => {
      const [r] = expectRequests(`GET / HTTP/${version}\r\nHost: x\r\n${header}\r\n`);
      assert.equal(r.keepAlive, expected);
    });
  }
});

describe('pipelining and lifecycle', () => {
  it('returns every pipelined request in order', () => {
    const input = `${GET}PUT /api/token HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc\r\nGET /b HTTP/1.0\r\n\r\n`;
    const requests = expectRequests(input);
    assert.deepEqual(
      requests.map((r) => [r.method, r.target, dec(r.body)]),
      [
        ['GET', '/latest/meta-data/', ''],
        ['PUT', '/api/token', 'abc'],
        ['GET', '/b', ''],
      ],
    );
  });

  it('reports requests before an error, then the error once, then nothing', () => {
    const parser = new HttpRequestParser();
    const events = parser.push(enc(`${GET}GET / HTTP/1.1\r\n\r\n${GET}`));
    assert.deepEqual(
      events.map((e) => e.kind),
      ['request', 'error'],
    );
    assert.equal(parser.bufferedBytes, 0);
    assert.deepEqual(parser.push(enc(GET)), []);
  });

  it('keeps only the unfinished tail buffered', () => {
    const parser = new HttpRequestParser();
    assert.equal(parser.push(enc(`${GET}GET /x HT`)).length, 1);
    assert.equal(parser.bufferedBytes, 'GET /x HT'.length);
  });

  it('ignores empty pushes', () => {
    const parser = new HttpRequestParser();
    assert.deepEqual(parser.push(new Uint8Array(0)), []);
  });

  it('rejects invalid limits', () => {
    assert.throws(() => new HttpRequestParser({ maxBodyBytes: -1 }), RangeError);
  });
});

describe('limits at and one past the bound', () => {
  it('request line: 414 uri-too-long', () => {
    const line = (n: number) => `GET /${'a'.repeat(n - 'GET / HTTP/1.1'.length)} HTTP/1.1\r\nHost: x\r\n\r\n`;
    assert.equal(expectRequests(line(40), { maxRequestLineBytes: 40 }).length, 1);
    expectError(line(41), 414, 'uri-too-long', { maxRequestLineBytes: 40 });
    // Without any LF in sight the parser gives up once the line cannot fit any more.
    const parser = new HttpRequestParser({ maxRequestLineBytes: 40 });
    assert.deepEqual(parser.push(enc('G'.repeat(41))), []);
    const [error] = parser.push(enc('G'));
    assert.equal(error.kind === 'error' && error.code, 'uri-too-long');
    assert.equal(DEFAULT_HTTP_LIMITS.maxRequestLineBytes, 8192);
  });

  it('header section bytes: 431 headers-too-large', () => {
    // Section = "Host: x\r\n" (9) + "X: " + value + "\r\n" + final "\r\n".
    const request = (size: number) => `GET / HTTP/1.1\r\nHost: x\r\nX: ${'v'.repeat(size - 9 - 5 - 2)}\r\n\r\n`;
    assert.equal(expectRequests(request(64), { maxHeaderBytes: 64 }).length, 1);
    expectError(request(65), 431, 'headers-too-large', { maxHeaderBytes: 64 });
    const parser = new HttpRequestParser({ maxHeaderBytes: 64 });
    const events = parser.push(enc(`GET / HTTP/1.1\r\nX: ${'v'.repeat(100)}`));
    assert.equal(events[0]?.kind === 'error' && events[0].code, 'headers-too-large');
  });

  it('header count: 431 headers-too-large', () => {
    const request = (n: number) => `GET / HTTP/1.1\r\nHost: x\r\n${'A: b\r\n'.repeat(n - 1)}\r\n`;
    assert.equal(expectRequests(request(3), { maxHeaderCount: 3 })[0].headers.length, 3);
    expectError(request(4), 431, 'headers-too-large', { maxHeaderCount: 3 });
  });

  it('buffered bytes: 413 buffer-full', () => {
    const head = 'PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n';
    const parser = new HttpRequestParser({ maxBufferedBytes: head.length + 4 });
    assert.deepEqual(parser.push(enc(`${head}abcd`)), []);
    const [error] = parser.push(enc('e'));
    assert.equal(error.kind === 'error' && `${error.status} ${error.code}`, '413 buffer-full');
  });
});

describe('resolved limits', () => {
  it('derives maxBufferedBytes from the other limits unless given', () => {
    assert.equal(resolveLimits({ maxBodyBytes: 1_000_000 }).maxBufferedBytes, 8192 + 2 + 16384 + 1_000_000);
    assert.equal(resolveLimits({ maxBufferedBytes: 10 }).maxBufferedBytes, 10);
    assert.equal(resolveLimits().maxBufferedBytes, DEFAULT_HTTP_LIMITS.maxBufferedBytes);
  });
});

describe('buffer ownership', () => {
  it("never keeps or writes the caller's array: a pending tail survives the caller reusing it", () => {
    const parser = new HttpRequestParser();
    const first = enc('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHo');
    const snapshot = first.slice();
    const events = parser.push(first);
    assert.deepEqual(
      events.map((e) => (e.kind === 'request' ? e.request.target : e.code)),
      ['/a'],
    );
    assert.deepEqual(first, snapshot, 'input untouched');
    first.fill(0x41); // the caller reuses its buffer
    const rest = parser.push(enc('st: x\r\n\r\n'));
    assert.deepEqual(
      rest.map((e) => (e.kind === 'request' ? e.request.target : e.code)),
      ['/b'],
    );
    assert.equal(parser.bufferedBytes, 0);
  });

  it('a request body is a copy, not a view of the input', () => {
    const parser = new HttpRequestParser();
    const input = enc('PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc');
    const [event] = parser.push(input);
    input.fill(0);
    assert.ok(event?.kind === 'request');
    assert.equal(dec(event.request.body), 'abc');
  });
});
