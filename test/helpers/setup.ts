/** Mocha root setup: keep logs to errors so the spec reporter stays readable. */
import { configureLogging } from '../../shared/logging';

configureLogging({ level: 'error' });
