/// ISO 8601 date-times in Unix milliseconds and back, exactly (no `Double` seconds between).
///
/// Parsing takes `YYYY-MM-DDTHH:MM:SS`, optional fractional seconds (digits past the third are
/// cut, as JavaScript's `Date` does) and a zone: `Z` or `±HH:MM` (`±HHMM`). A date-time
/// without a zone is refused: the seed's `new Date(...)` would have read it in the server's
/// local time, which nobody can rely on.
public enum ISOTimestamp {
    /// Why a text is not an accepted date-time.
    public struct ParseError: Error, Sendable, Equatable {
        /// A sentence saying what is wrong.
        public let reason: String
    }

    /// Unix milliseconds of `text`.
    public static func parse(_ text: String) throws(ParseError) -> Int64 {
        var scanner = Scanner(Array(text.utf8))
        let year = try scanner.number(digits: 4, "year")
        try scanner.expect("-")
        let month = try scanner.number(digits: 2, "month")
        try scanner.expect("-")
        let day = try scanner.number(digits: 2, "day")
        guard scanner.take("T") || scanner.take("t") || scanner.take(" ") else {
            throw ParseError(reason: "expected 'T' and a time after the date (2026-11-28T08:00:00.000Z)")
        }
        let hour = try scanner.number(digits: 2, "hour")
        try scanner.expect(":")
        let minute = try scanner.number(digits: 2, "minute")
        try scanner.expect(":")
        let second = try scanner.number(digits: 2, "second")
        var millis: Int64 = 0
        if scanner.take(".") {
            let digits = scanner.digits()
            guard !digits.isEmpty else { throw ParseError(reason: "expected digits after the '.' of the seconds") }
            for place in 0..<3 { millis = millis * 10 + Int64(place < digits.count ? digits[place] : 0) }
        }
        let offsetMinutes = try scanner.zone()
        guard scanner.atEnd else { throw ParseError(reason: "unexpected text after the time zone") }
        guard (1...12).contains(month) else { throw ParseError(reason: "month \(month) is not 1-12") }
        guard (1...daysIn(month: month, year: year)).contains(day) else {
            throw ParseError(reason: "day \(day) does not exist in \(year)-\(pad(month, 2))")
        }
        guard hour < 24, minute < 60, second < 60 else {
            throw ParseError(reason: "time \(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)) is out of range")
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + (hour * 60 + minute - offsetMinutes) * 60 + second
        return seconds * 1000 + millis
    }

    /// `millis` as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, always three fraction digits).
    public static func format(_ millis: Int64) -> String {
        let (seconds, fraction) = floorDivide(millis, 1000)
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        let (year, month, day) = civilFromDays(days)
        let time = "\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(time).\(pad(fraction, 3))Z"
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(abs(value))
        return (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        var (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        if remainder < 0 { quotient -= 1; remainder += divisor }
        return (quotient, remainder)
    }

    private static func isLeap(_ year: Int64) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    private static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date of a day since 1970-01-01 (`civil_from_days`).
    private static func civilFromDays(_ days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Reads the ASCII of a date-time.
    private struct Scanner {
        let bytes: [UInt8]
        var position = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { position == bytes.count }

        mutating func take(_ character: Unicode.Scalar) -> Bool {
            guard position < bytes.count, bytes[position] == UInt8(ascii: character) else { return false }
            position += 1
            return true
        }

        mutating func expect(_ character: Unicode.Scalar) throws(ParseError) {
            guard take(character) else { throw ParseError(reason: "expected '\(character)' at position \(position)") }
        }

        /// Up to `limit` digits.
        mutating func digits(upTo limit: Int = .max) -> [Int] {
            var result: [Int] = []
            while result.count < limit, position < bytes.count,
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position])
            {
                result.append(Int(bytes[position] - UInt8(ascii: "0")))
                position += 1
            }
            return result
        }

        mutating func number(digits count: Int, _ name: String) throws(ParseError) -> Int64 {
            let start = position
            let read = digits(upTo: count)
            guard read.count == count else {
                throw ParseError(reason: "expected the \(name) as \(count) digits at position \(start)")
            }
            return read.reduce(0) { $0 * 10 + Int64($1) }
        }

        /// The zone's offset east of UTC, in minutes.
        mutating func zone() throws(ParseError) -> Int64 {
            if take("Z") || take("z") { return 0 }
            let sign: Int64
            if take("+") {
                sign = 1
            } else if take("-") {
                sign = -1
            } else {
                throw ParseError(reason: "expected a time zone, 'Z' or an offset such as +02:00")
            }
            let hours = try number(digits: 2, "zone's hours")
            _ = take(":")
            let minutes = try number(digits: 2, "zone's minutes")
            guard hours < 24, minutes < 60 else { throw ParseError(reason: "time zone offset is out of range") }
            return sign * (hours * 60 + minutes)
        }
    }
}
