import { strict as assert } from 'node:assert';
import { remedyLine } from '../../src/cli/commands/doctor';
import type { DoctorAction, DoctorRemedy } from '../../src/core/doctor';

describe('doctor remedies in the CLI', () => {
  it('prints a command line (or what to do) for every action id, quoting what the shell would split', () => {
    const every: Record<DoctorAction, DoctorRemedy> = {
      'start-daemon': { action: 'start-daemon', params: { endpoint: 'unix:///var/run/docker.sock' } },
      'upgrade-engine': { action: 'upgrade-engine', params: { minimumApiVersion: '1.41' } },
      'install-compose': { action: 'install-compose', params: {} },
      'fix-compose': { action: 'fix-compose', params: { file: "/w/my app/o'k.yml" } },
      'force-release-lock': { action: 'force-release-lock', params: { lock: 'ci', staleOnly: true } },
      'set-setting': { action: 'set-setting', params: { setting: 'lockFolder', current: '/x' } },
      'clean-up': { action: 'clean-up', params: { dryRunFirst: true } },
      'reduce-load': { action: 'reduce-load', params: { level: 'CRITICAL' } },
    };
    const lines = Object.fromEntries(Object.entries(every).map(([k, r]) => [k, remedyLine(r)]));
    assert.match(lines['start-daemon'] ?? '', /unix:\/\/\/var\/run\/docker\.sock.*--host/);
    assert.equal(
      lines['fix-compose'],
      "docker-stability compose check '/w/my app/o'\\''k.yml'; docker-stability compose apply '/w/my app/o'\\''k.yml'",
    );
    assert.equal(
      lines['force-release-lock'],
      'docker-stability lock force-release --name ci --stale-only (the next acquirer also takes it over)',
    );
    assert.match(lines['set-setting'] ?? '', /DOCKER_STABILITY_LOCK_DIR/);
    assert.equal(lines['clean-up'], 'docker-stability cleanup --dry-run, then docker-stability cleanup');
    assert.equal(
      remedyLine({ action: 'clean-up', params: { dryRunFirst: false } }),
      'docker-stability cleanup',
    );
    for (const [k, l] of Object.entries(lines)) assert.ok(l && !l.includes('undefined'), `${k}: ${l}`);
  });
});
