// `imds-hop ec2-api credentials`: the operator keys of a running appliance's EC2 API, in the forms the AWS CLI
// takes (environment variables, or `aws configure set` commands for a profile).
import { Command, Option } from 'commander';
import { callControl } from './control-client.ts';
import { socketOf, withSocket } from './control.ts';
import { formatCredentials, type CredentialsFormat, type CredentialsInfo } from '../ec2-api/index.ts';

export function addEc2ApiCommands(program: Command): void {
  const ec2Api = program
    .command('ec2-api')
    .description('the EC2 Query API of a running appliance (aws ec2 ... --endpoint-url)');
  withSocket(
    ec2Api
      .command('credentials')
      .description('print the operator keys that sign EC2 API requests, with the region and endpoint')
      .addOption(
        new Option('--format <format>', 'env: export lines; configure: aws configure set commands')
          .choices(['env', 'configure'])
          .default('env'),
      )
      .option('--profile <name>', 'profile name for --format configure', 'imds-hop'),
  ).action(async (opts) => {
    const info = (await callControl(socketOf(opts), { op: 'ec2-api-credentials' })) as CredentialsInfo;
    process.stdout.write(formatCredentials(info, opts.format as CredentialsFormat, opts.profile as string));
  });
}
