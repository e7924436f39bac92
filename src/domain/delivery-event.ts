import type { EvidenceKind } from './delivery-lattice';

/** The dispatcher's event types (docs/rest.md) and the evidence each proves. */
export const DISPATCHER_EVENT_TYPES = [
  'message.sent',
  'message.delivered',
  'message.read',
  'message.clicked',
  'message.failed',
  'message.reply',
] as const;

export type DispatcherEventType = (typeof DISPATCHER_EVENT_TYPES)[number];

export function isDispatcherEventType(value: unknown): value is DispatcherEventType {
  return typeof value === 'string' && (DISPATCHER_EVENT_TYPES as readonly string[]).includes(value);
}

/** Thrown by exhaustive switches when a case was forgotten; `never` makes the compiler catch it first. */
export class UnreachableCaseError extends Error {
  constructor(value: never) {
    super(`Unreachable case: ${JSON.stringify(value)}`);
  }
}

export function evidenceOfEventType(type: DispatcherEventType): EvidenceKind {
  switch (type) {
    case 'message.sent':
      return 'SENT';
    case 'message.delivered':
      return 'DELIVERED';
    case 'message.read':
      return 'READ';
    case 'message.clicked':
      return 'CLICKED';
    case 'message.failed':
      return 'FAILED';
    case 'message.reply':
      return 'REPLIED';
    default:
      throw new UnreachableCaseError(type);
  }
}

/** A WhatsApp error as Meta reports it on a failed status. */
export interface DeliveryError {
  code: number;
  title: string;
}

/** One piece of evidence about one contact, whatever transport it came through. */
export interface DeliveryFact {
  evidence: EvidenceKind;
  /** when it happened (the event's own timestamp, else the time of receipt) */
  at: Date;
  /** only on FAILED, when the sender said why */
  error?: DeliveryError;
}
