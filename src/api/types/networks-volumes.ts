/** Docker Engine API wire types: Networks and volumes. */
import type { EndpointSettings, Labels } from './containers.ts';

export interface IpamPoolConfig { Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }

export interface IpamConfigWire { Driver: string; Options: Record<string, string> | null; Config: IpamPoolConfig[] | null }

/** A container's endpoint as GET /networks/{id} lists it. */
export interface NetworkContainer { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }

/** GET /networks/{id}, and entries of GET /networks (without Containers). */
export interface NetworkResource {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: string;
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  IPAM: IpamConfigWire;
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<string, NetworkContainer>;
  Options: Record<string, string>;
  Labels: Labels;
}

/** POST /networks/create */
export interface NetworkCreateRequest {
  Name: string;
  CheckDuplicate?: boolean;
  Driver?: string;
  Scope?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network?: string } | null;
  EnableIPv4?: boolean;
  EnableIPv6?: boolean;
  IPAM?: Partial<IpamConfigWire> | null;
  Options?: Record<string, string> | null;
  Labels?: Labels | null;
}

export interface NetworkCreateResponse { Id: string; Warning: string }

/** POST /networks/{id}/connect */
export interface NetworkConnectRequest { Container: string; EndpointConfig?: EndpointSettings | null }

/** POST /networks/{id}/disconnect */
export interface NetworkDisconnectRequest { Container: string; Force?: boolean }

/** POST /networks/prune */
export interface NetworkPruneResponse { NetworksDeleted: string[] | null }

/** GET /volumes/{name}, one entry of GET /volumes (API 1.47 Volume). */
export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt?: string;
  Status?: Record<string, unknown>;
  Labels: Labels;
  Scope: 'local' | 'global';
  Options: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
}

/** GET /volumes */
export interface VolumeListResponse { Volumes: Volume[]; Warnings: string[] | null }

/** POST /volumes/create */
export interface VolumeCreateRequest { Name?: string; Driver?: string; DriverOpts?: Record<string, string> | null; Labels?: Labels | null }

/** POST /volumes/prune */
export interface VolumePruneResponse { VolumesDeleted: string[] | null; SpaceReclaimed: number }
