import { SampleHistory } from '../../core/monitor/history';
import { stderrLogger } from '../../core/log';
import { endpointHistoryFile, recordOptions } from '../options';
import { sampleLine } from '../render';
import { CliError, ExitCode, parse, parseNumber, printJson, type Command } from '../util';

const usage = 'docker-stability history [--json] [--limit N] [--file F] [--host H]';

export const historyCommand: Command = {
  name: 'history',
  summary: 'Show the recorded samples (what `watch`, `run` and the extension have measured).',
  usage,
  async run(argv) {
    const { values } = parse(argv, { options: { ...recordOptions, limit: { type: 'string' } } }, usage);
    const limit = parseNumber(values.limit, 'limit', 1, 100_000) ?? 20;
    const file = values.file ?? endpointHistoryFile(values.host);
    const history = new SampleHistory(100_000, { file, logger: stderrLogger() });
    const { loaded } = await history.load();
    const samples = history.toArray().slice(-limit);
    if (values.json) printJson(samples);
    else if (loaded === 0)
      throw new CliError(
        `no samples recorded yet in ${file} (run \`docker-stability watch\`)`,
        ExitCode.failure,
      );
    else for (const s of samples) process.stdout.write(sampleLine(s) + '\n');
    return ExitCode.ok;
  },
};
