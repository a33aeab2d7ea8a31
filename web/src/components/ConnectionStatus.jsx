// The socket's state, announced politely when it changes.

const LABELS = {
  connecting: 'Connecting…',
  online: 'Connected',
  reconnecting: 'Reconnecting…',
  stopped: 'Disconnected',
};

export default function ConnectionStatus({ status }) {
  const { state, detail } = status;
  return (
    <p className={`status status-${state}`} role="status" title={detail || undefined}>
      <span className="dot" aria-hidden="true" />
      {LABELS[state] ?? state}
      {state !== 'online' && detail ? <span className="visually-hidden">: {detail}</span> : null}
    </p>
  );
}
