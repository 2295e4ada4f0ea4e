/**
 * THE ONE PLACE where an incident step reaches the fleet. Today no bus is wired into the incident
 * command, so nothing is published and the report says so. When `--fleet <url>` lands, the
 * command passes a publisher here (a `connector-secrets/fleet` bus's `publish`, sending
 * `quarantined(identity)` / `lifted(identity)`), and the step records what it sent.
 */

/** What an incident step tells the fleet: an identity quarantined or lifted (never a value). */
export interface IncidentFleetEvent {
  readonly type: 'quarantined' | 'lifted';
  readonly identity: string;
  readonly reason: string;
}

/** Publishes one fleet event; supplied by the fleet bus once the command takes `--fleet`. */
export type IncidentPublisher = (event: IncidentFleetEvent) => Promise<void>;

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
