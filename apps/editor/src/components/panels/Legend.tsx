import { SOCKET_COLORS } from '../../util/colors.js';

export function Legend(): React.JSX.Element {
  return (
    <details className="legend">
      <summary>Socket types</summary>
      <ul>
        {Object.entries(SOCKET_COLORS).map(([type, color]) => (
          <li key={type}>
            <span className="dot" style={{ background: color }} /> {type}
          </li>
        ))}
      </ul>
    </details>
  );
}
