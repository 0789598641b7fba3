// Unit tests format times in one fixed locale (en-GB: 24-hour, "Sun 29 Nov"), whatever the
// machine's; the locale tests in lib/time.test.ts switch it explicitly.
import { setLocale } from '../lib/time';

setLocale('en-GB');
