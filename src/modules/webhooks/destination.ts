import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

/**
 * SSRF stance: a webhook URL is chosen by a tenant but fetched by the server, from inside its
 * network. Unless COFFER_WEBHOOK_ALLOW_PRIVATE=true, deliveries go only to public addresses:
 * loopback, private, link-local (cloud metadata), CGNAT and unique-local ranges are refused.
 * The check runs in the socket's own DNS lookup, so a name that resolves to a public address
 * when the webhook is created and to 127.0.0.1 later (DNS rebinding) is refused too.
 */
const PRIVATE = new net.BlockList();
for (const [address, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16], ['224.0.0.0', 3]] as const) {
  PRIVATE.addSubnet(address, prefix, 'ipv4');
}
for (const [address, prefix] of [['::', 127], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) PRIVATE.addSubnet(address, prefix, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1]!, 'ipv4');
  return PRIVATE.check(address, net.isIPv6(address) ? 'ipv6' : 'ipv4');
}

/** Why a URL cannot be a webhook's, or null: http(s) only, no credentials, no private literal address unless allowed. */
export function refusedUrl(raw: string, allowPrivate: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http:// or https:// URL';
  if (url.username || url.password) return 'must not carry credentials';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && (host === 'localhost' || host.endsWith('.localhost') || (net.isIP(host) !== 0 && isPrivateAddress(host)))) {
    return 'points at a private or loopback address (set COFFER_WEBHOOK_ALLOW_PRIVATE=true to allow it)';
  }
  return null;
}

export interface SendResult {
  status: number | null;
  error: string | null;
}

/** POSTs a body, never following redirects (a 3xx is a failure), with the DNS check above. */
export function post(url: string, body: string, headers: Record<string, string>, options: { timeoutMs: number; allowPrivate: boolean }): Promise<SendResult> {
  const target = new URL(url);
  const lookup: net.LookupFunction = (hostname, lookupOptions, callback) => {
    dns.lookup(hostname, { ...lookupOptions, all: false }, (error, address, family) => {
      if (!error && !options.allowPrivate && isPrivateAddress(address as string)) {
        callback(new Error(`${hostname} resolves to a private address`), '', 4);
        return;
      }
      callback(error, address as string, family);
    });
  };
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const request = client.request(
      target,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers }, lookup, timeout: options.timeoutMs },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? null, error: null }));
        response.on('error', () => resolve({ status: response.statusCode ?? null, error: 'the response was cut short' }));
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    request.on('error', (error) => resolve({ status: null, error: error.message.slice(0, 300) }));
    request.end(body);
  });
}
