import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../auth/api-keys.service';
import type { DispatcherEventsService } from '../ingest/dispatcher-events.service';
import { parseDispatcherEvents } from '../ingest/dispatcher-event.parser';
import { parseJsonBody, readBody, sendJson } from './http-io';

/** Largest body of `POST /api/v1/events`. @default 8 MiB */
export const EVENTS_BODY_LIMIT = 8 * 1024 * 1024;

/** `POST /api/v1/events`: parse whole, apply in one transaction, answer after the commit. */
export async function handleDispatcherEvents(
  request: IncomingMessage,
  response: ServerResponse,
  principal: Principal,
  service: DispatcherEventsService,
): Promise<void> {
  const receivedAt = new Date();
  const body = parseJsonBody(await readBody(request, EVENTS_BODY_LIMIT));
  const events = parseDispatcherEvents(body, receivedAt);
  const result = await service.ingest(principal.workspaceId, events);
  sendJson(response, 200, { status: 'success', accepted: result.accepted });
}
