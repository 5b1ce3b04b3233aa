import { levelIndex, parseLevel } from '../../core/levels';
import { forecast, type Forecast } from '../../core/monitor/forecast';
import { SampleHistory } from '../../core/monitor/history';
import { ResourceMonitor } from '../../core/monitor/monitor';
import type { MonitorSettings } from '../../core/monitor/settings';
import type { Sample } from '../../core/monitor/types';
import { defaultHistoryFile } from '../../core/paths';
import { monitorSettingsFrom } from '../config';
import { renderConsumers, renderForecast, renderSample } from '../render';
import { CliError, createClient, ExitCode, parseNumber, printJson, useColor, type Command } from '../util';
import { parseCommand } from '../options';
import { errorMessage } from '../../shared/errors';

const usage = 'docker-stability status [--json] [--top N] [--fail-on LEVEL] [--config F] [--host H]';

/** One sample has no trend: the forecast reads the history the endpoint's sampler records (never writing it). */
async function forecastWith(sample: Sample, settings: MonitorSettings, host: string): Promise<Forecast[]> {
  const history = new SampleHistory(settings.historySize, { file: defaultHistoryFile(host) });
  history.persist = false;
  await history.load({ follower: true });
  history.push(sample);
  return forecast(history.toArray(), settings.thresholds);
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'Take one sample of the daemon and rate it (a CI gate with --fail-on).',
  usage,
  async run(argv) {
    const { values, config } = parseCommand(argv, usage, {
      top: { type: 'string' },
      'fail-on': { type: 'string' },
    });
    let failOn;
    try {
      failOn = values['fail-on'] === undefined ? undefined : parseLevel(values['fail-on']);
    } catch (err) {
      throw new CliError(errorMessage(err), ExitCode.usage);
    }
    const top = parseNumber(values.top, 'top', 0, 1000);
    const settings = monitorSettingsFrom(config);
    if (top !== undefined) settings.topConsumers = Math.floor(top);
    const client = createClient(values);
    const monitor = new ResourceMonitor(client, settings);
    try {
      let sample = await monitor.sampleNow();
      if (!sample.disk?.breakdown) {
        // The disk breakdown (elsewhere the disk figure itself) comes from a rare /system/df that a
        // monitor never waits for; one status is worth waiting for it, then one more quick sample.
        await monitor.refreshDisk().catch(() => undefined);
        sample = await monitor.sampleNow();
      }
      const forecasts = await forecastWith(sample, settings, client.endpoint.host);
      if (values.json) printJson({ ...sample, forecast: forecasts });
      else {
        const text = [
          renderSample(sample, { color: useColor() }),
          ...(top ? [renderConsumers(sample, top)] : []),
          renderForecast(forecasts),
        ];
        process.stdout.write(text.join('\n') + '\n');
      }
      if (failOn && levelIndex(sample.level) >= levelIndex(failOn)) {
        process.stderr.write(`docker-stability: level ${sample.level} is at or above ${failOn}\n`);
        return ExitCode.failure;
      }
      return ExitCode.ok;
    } finally {
      await monitor.dispose();
    }
  },
};
