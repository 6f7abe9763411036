/**
 * A requested MAC address (`--mac-address`, Config.MacAddress, EndpointSettings.MacAddress) in the
 * forms Go's net.ParseMAC reads for a 6-byte Ethernet address: "02:42:ac:11:00:02",
 * "02-42-ac-11-00-02" or "0242.ac11.0002". Returns the address as `ip link` takes it (lowercase,
 * colon-separated), or undefined if it is not one.
 */
export function parseMac(s: string): string | undefined {
  let hex: string | undefined;
  if (/^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i.test(s)) hex = s.replace(/[:-]/g, '');
  else if (/^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/i.test(s)) hex = s.replace(/\./g, '');
  return hex?.toLowerCase().match(/../g)!.join(':');
}

/** Whether the kernel lets an interface take it (is_valid_ether_addr): neither multicast nor all zeros. */
export function isAssignableMac(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 0 && mac !== '00:00:00:00:00:00';
}
