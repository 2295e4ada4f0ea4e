// The contract every fleet bus implements. Events name refs, identities and leases, never values.

/** What a publisher says happened. */
export type FleetEventBody =
  | {
      /** A secret got a new version. */
      readonly type: 'rotated';
      /** The canonical ref, without `#field`. */
      readonly ref: string;
      /** The new version, when the provider has versions. */
      readonly version: string | null;
    }
  | {
      /** A lease was revoked. */
      readonly type: 'revoked';
      /** The provider's lease id. */
      readonly leaseId: string;
    }
  | {
      /** An identity was quarantined. */
      readonly type: 'quarantined';
      /** The quarantined identity. */
      readonly identity: string;
      /** Why (an incident id, a sentence), already through the publisher's redactor. */
      readonly reason: string;
    }
  | {
      /** A quarantine was lifted. */
      readonly type: 'lifted';
      /** The identity. */
      readonly identity: string;
      /** Why, when given. */
      readonly reason?: string;
    }
  | {
      /** The access policy was replaced. */
      readonly type: 'policy-updated';
      /** The new policy document (`{ version: 1, rules }`), checked by each receiver. */
      readonly policy: unknown;
    };

/** An event as the bus delivers it: the body plus what the bus adds. */
export type FleetEvent = FleetEventBody & {
  /** Bus-assigned, strictly increasing per bus (a decimal sequence number or a stream id). */
  readonly id: string;
  /** When the bus accepted it (ISO 8601). */
  readonly at: string;
  /** The publishing bus instance, so a process can tell its own events apart. */
  readonly origin: string;
};

/**
 * A bus between the processes of a fleet. `subscribe` listeners hear every event once, in `id`
 * order, including this instance's own; after a reconnect the bus catches up from its durable
 * log (a table or a stream) so a disconnected worker misses nothing.
 */
export interface FleetBus {
  /** For messages and audit records: `postgres` or `redis`. */
  readonly name: string;
  /** This instance's origin id. */
  readonly origin: string;
  /** Stores the event durably, then notifies; resolves with the delivered form. */
  publish(event: FleetEventBody): Promise<FleetEvent>;
  /** Returns an unsubscribe function. */
  subscribe(listener: (event: FleetEvent) => void): () => void;
  /** Resolves when connected and listening (a client awaits it before its first access). */
  ready(): Promise<void>;
  /** Stops listening and releases connections; idempotent. */
  close(): Promise<void>;
}
