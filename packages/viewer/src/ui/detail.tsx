import { useEffect, useRef, useState } from 'preact/hooks';
import type { StoredEvent } from './api.js';
import { formatIso, formatTime, text } from './format.js';

interface DetailProps {
  event: StoredEvent;
  onClose: () => void;
  onFilter: (param: string, value: string) => void;
}

/** A field of the event: its label, its value, and the filter parameter it maps to (if any). */
type Field = readonly [label: string, value: unknown, param?: string];

function fieldsOf(event: StoredEvent): Field[] {
  const fields: Field[] = [
    ['id', event.id],
    ['time', `${formatTime(event.time)} (${formatIso(event.time)})`],
    ['type', event.type, 'type'],
    ['category', event.category, 'category'],
    ['action', event.action, 'action'],
    ['outcome', event.outcome, 'outcome'],
    ['severity', event.severity, 'severity'],
    ['message', event.message],
    ['actor.id', event.actor?.id, 'actorId'],
    ['actor.type', event.actor?.type, 'actorType'],
    ['actor.name', event.actor?.name, 'actorName'],
    ['target.type', event.target?.type, 'targetType'],
    ['target.id', event.target?.id, 'targetId'],
    ['target.name', event.target?.name, 'targetName'],
    ['tenantId', event.tenantId, 'tenantId'],
    ['ip', event.ip, 'ip'],
    ['userAgent', event.userAgent],
    ['sessionId', event.sessionId, 'sessionId'],
    ['durationMs', event.durationMs],
  ];
  for (const [name, value] of Object.entries(event.dimensions ?? {})) fields.push([`dimensions.${name}`, value, `dim.${name}`]);
  for (const [name, value] of Object.entries(event.metrics ?? {})) fields.push([`metrics.${name}`, value]);
  return fields.filter(([, value]) => value !== null && value !== undefined && value !== '');
}

function CopyButton({ value, label }: { value: string; label: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      class="copy"
      aria-label={label}
      onClick={() =>
        navigator.clipboard?.writeText(value).then(
          () => {
            setDone(true);
            setTimeout(() => setDone(false), 1200);
          },
          () => setDone(false),
        )
      }
    >
      {done ? 'Copied' : 'Copy'}
    </button>
  );
}

/** Pretty JSON in a scrolling block that the keyboard can reach. */
function JsonBlock({ text: json }: { text: string }) {
  return (
    <pre
      class="json"
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable from the keyboard (WCAG 2.1.1).
      tabIndex={0}
    >
      {json}
    </pre>
  );
}

export function Detail({ event, onClose, onFilter }: DetailProps) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [event.id]);
  const payload = event.data === undefined ? null : JSON.stringify(event.data, null, 2);
  const whole = JSON.stringify(event, null, 2);
  return (
    <aside class="detail" aria-labelledby="detail-heading">
      <header>
        <h2 id="detail-heading" tabIndex={-1} ref={heading}>
          Event {event.id}
        </h2>
        <button type="button" onClick={onClose} aria-label="Close the details (Escape)">
          Close
        </button>
      </header>
      <dl>
        {fieldsOf(event).map(([label, value, param]) => (
          <div class="field" key={label}>
            <dt>{label}</dt>
            <dd>
              <span class="value">{text(value)}</span>
              {param ? (
                <button
                  type="button"
                  class="link"
                  aria-label={`Filter by ${label} ${text(value)}`}
                  onClick={() => onFilter(param, text(value))}
                >
                  Filter
                </button>
              ) : null}
            </dd>
          </div>
        ))}
      </dl>
      {payload !== null ? (
        <section aria-label="Payload">
          <h3>
            Payload (data) <CopyButton value={payload} label="Copy the payload JSON" />
          </h3>
          <JsonBlock text={payload} />
        </section>
      ) : null}
      <section aria-label="Whole event">
        <h3>
          Whole event <CopyButton value={whole} label="Copy the whole event as JSON" />
        </h3>
        <JsonBlock text={whole} />
      </section>
    </aside>
  );
}
