/**
 * Where an incident step reaches the fleet. With `--fleet <url>` the command passes a publisher
 * (a `connector-secrets/fleet` bus's `publish`); without one nothing is sent and the report says
 * so.
 */

/** What the quarantine step tells the fleet: an identity quarantined or lifted (never a value). */
export interface IncidentFleetEvent {
  readonly type: 'quarantined' | 'lifted';
  readonly identity: string;
  readonly reason: string;
}

/** What the rotation step tells the fleet: a ref has a new version (never the value). */
export interface IncidentRotatedEvent {
  readonly type: 'rotated';
  readonly ref: string;
  readonly version: string | null;
}

/** Publishes one fleet event; supplied by the fleet bus once the command takes `--fleet`. */
export type IncidentPublisher = (event: IncidentFleetEvent | IncidentRotatedEvent) => Promise<void>;

/** What the fleet step did, for the report. */
export interface FleetStepResult {
  readonly published: boolean;
  readonly detail: string;
}

/**
 * Tells the fleet about `event` through `publish`, when there is one. Without one, the quarantine
 * holds only in this process and in what reads the audit log; the report says exactly that.
 */
export async function publishToFleet(event: IncidentFleetEvent, publish: IncidentPublisher | undefined): Promise<FleetStepResult> {
  if (publish === undefined) {
    return {
      published: false,
      detail: `no fleet bus configured: ${event.type} was not sent to other processes; the identity's running workers keep their access until they are stopped or a fleet bus reaches them`,
    };
  }
  await publish(event);
  return { published: true, detail: `${event.type}(${event.identity}) published to the fleet bus` };
}
