import * as path from 'node:path';
import { loadFleetFile } from '../../infra/config/load-fleet';
import { accountClients, type DoctorItem, formatDoctor, judge, readAccount } from './doctor';

export interface DoctorRequest {
  readonly env: string;
  readonly profile?: string;
  readonly region?: string;
  readonly fleet?: string;
}

export interface DoctorOutcome {
  readonly items: readonly DoctorItem[];
  readonly text: string;
  readonly blocked: boolean;
}

export type DoctorRunner = (request: DoctorRequest) => Promise<DoctorOutcome>;

/** Reads the fleet file and the account (the operator's own credentials; read-only calls), and judges. */
export const defaultDoctor: DoctorRunner = async (request) => {
  const fleet = loadFleetFile(request.fleet ?? path.join('config', `${request.env}.yaml`));
  const items = judge(
    fleet,
    await readAccount(fleet, accountClients({ region: request.region ?? fleet.region, profile: request.profile })),
  );
  return { items, ...formatDoctor(items) };
};
