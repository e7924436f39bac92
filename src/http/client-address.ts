import type { IncomingMessage } from 'node:http';
import proxyaddr from '@fastify/proxy-addr';

/** Who a request's address is: the socket's peer, or, behind trusted proxies, the client they name. */
export type ClientAddress = (request: IncomingMessage) => string | undefined;

/**
 * The client address of HTTP requests and WebSocket upgrades alike, from `TRUST_PROXY`: with no
 * trusted proxy, the socket's peer; with one (addresses, CIDRs, or `loopback`/`uniquelocal`), the
 * left-most address of `X-Forwarded-For` that is not a trusted proxy. Rate limits for callers
 * without a valid key are per this address, so behind a load balancer it must be set (docs/deploy.md),
 * or every caller would share the balancer's budget.
 */
export function clientAddressOf(trustedProxies: readonly string[]): {
  trust: ((address: string, hop: number) => boolean) | undefined;
  of: ClientAddress;
} {
  if (trustedProxies.length === 0) return { trust: undefined, of: (request) => request.socket.remoteAddress };
  const trust = proxyaddr.compile([...trustedProxies]);
  return { trust, of: (request) => proxyaddr(request, trust) };
}
