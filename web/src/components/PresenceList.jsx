// Members of the room and whether each is online: "here" (connected into
// this room), "online" (connected elsewhere) or offline.

import { userLabel } from '../chat/rooms.js';

export default function PresenceList({ room, me, online }) {
  const byUser = new Map(online.map((p) => [p.userId, p]));
  const members = [...(room.memberIds ?? [])].sort((a, b) => (a === me ? -1 : b === me ? 1 : a - b));
  const hereCount = members.filter((u) => byUser.has(u)).length;
  return (
    <div className="presence">
      <span className="visually-hidden">{`${hereCount} of ${members.length} members online.`}</span>
      <ul aria-label="Members">
        {members.map((u) => {
          const p = byUser.get(u);
          const state = p ? (p.inRoom ? 'here' : 'online') : 'offline';
          const text = state === 'here' ? 'in this room' : state;
          return (
            <li key={u} className={`member member-${state}`} data-user={u} data-presence={state} title={text}>
              <span className="dot" aria-hidden="true" />
              {userLabel(u, me)}
              {u === me ? (
                <span className="visually-hidden">, {text}</span>
              ) : (
                <span className="state"><span className="visually-hidden">,</span> · {text}</span>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
