import { type Schema, array, bool, int, str, stringMap, strings, struct } from '../body-schema.ts';

// Network bodies as dockerd's Go structs decode them (API 1.47: api/types/network).

/**
 * network.EndpointSettings: one network of a container's NetworkingConfig, and connect's EndpointConfig.
 * GwPriority is API 1.48 (the docker CLI 28 sends it anyway): dockerd 27 ignores it, and so it is dropped.
 */
export const endpointSettings = (): Schema => struct({
  IPAMConfig: struct({ IPv4Address: str(), IPv6Address: str(), LinkLocalIPs: strings() }),
  Links: strings(),
  Aliases: strings(),
  MacAddress: str(),
  DriverOpts: stringMap(),
  NetworkID: str(),
  EndpointID: str(),
  Gateway: str(),
  IPAddress: str(),
  IPPrefixLen: int('int'),
  IPv6Gateway: str(),
  GlobalIPv6Address: str(),
  GlobalIPv6PrefixLen: int('int'),
  DNSNames: strings(),
});

/** POST /networks/create (network.CreateRequest). */
export const networkCreateSchema = (): Schema => struct({
  Name: str(),
  CheckDuplicate: bool(),
  Driver: str(),
  Scope: str(),
  EnableIPv4: bool(),
  EnableIPv6: bool(),
  IPAM: struct({
    Driver: str(),
    Config: array(struct({ Subnet: str(), IPRange: str(), Gateway: str(), AuxiliaryAddresses: stringMap() })),
    Options: stringMap(),
  }),
  Internal: bool(),
  Attachable: bool(),
  Ingress: bool(),
  ConfigOnly: bool(),
  ConfigFrom: struct({ Network: str() }),
  Options: stringMap(),
  Labels: stringMap(),
});

/** POST /networks/{id}/connect. */
export const networkConnectSchema = (): Schema => struct({ Container: str(), EndpointConfig: endpointSettings() });

/** POST /networks/{id}/disconnect. */
export const networkDisconnectSchema = (): Schema => struct({ Container: str(), Force: bool() });
