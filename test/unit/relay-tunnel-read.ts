// What a device answers relay_tunnel's read with (src/relay/modules/relay_tunnel.ts), for unit tests
// that plan a tunnel task against files as they stand on a fake device.

export interface DeviceFile {
  content: string;
  /** owner:group:mode, as the read reports it */
  attrs: string;
}

/** The read's reply: the unit, pin and rollback files all present with `files`, no rollback armed, no new key. */
export function relayTunnelRead(files: DeviceFile[], units: string): string {
  return [
    ...files.map((_, i) => `file${i + 1}=yes`),
    ...files.map((f) => `stat=${f.attrs} ${Buffer.byteLength(f.content)}`),
    `content=${Buffer.from(files.map((f) => f.content).join('')).toString('base64')}`,
    'armed=',
    'newkey=no',
    `units=${units}`,
    '',
  ].join('\n');
}
