import ApplianceAPI
@testable import VCSAExporter

/// The same inputs with every text replaced by "x" (an empty text stays empty, since emptiness decides
/// whether a row is shown): the page rendered from them has exactly the template's elements.
extension LandingPageCheck {
    static func neutral(_ text: String) -> String {
        text.isEmpty ? "" : "x"
    }
}

extension LandingPageInputs {
    var neutral: LandingPageInputs {
        var copy = self
        copy.options.vcenterURL = LandingPageCheck.neutral(options.vcenterURL)
        copy.options.telemetryPath = LandingPageCheck.neutral(options.telemetryPath)
        copy.snapshot = snapshot?.neutral
        copy.probeTargets = probeTargets.map {
            ProbeTarget(name: LandingPageCheck.neutral($0.name), url: LandingPageCheck.neutral($0.url), module: LandingPageCheck.neutral($0.module), up: $0.up)
        }
        return copy
    }
}

extension ScrapeSnapshot {
    var neutral: ScrapeSnapshot {
        var copy = self
        copy.reconciliation = reconciliation?.neutral { $0?.neutral }
        copy.restore = restore?.neutral { $0.neutral }
        copy.backup = backup?.neutral { $0.neutral }
        return copy
    }
}

extension CollectorOutcome {
    func neutral(_ value: (Value) -> Value) -> CollectorOutcome {
        switch self {
        case .success(let job): .success(value(job))
        // The page shows an error only as text (its description and type).
        case .failure: .failure(.transport("x"))
        case .unsupported: .unsupported
        }
    }
}

extension ReconciliationJob {
    var neutral: ReconciliationJob {
        var copy = self
        copy.description = description.neutral
        copy.service = LandingPageCheck.neutral(service)
        copy.operation = LandingPageCheck.neutral(operation)
        copy.parent = parent.map(LandingPageCheck.neutral)
        copy.target = target.map { DynamicID(type: LandingPageCheck.neutral($0.type), id: LandingPageCheck.neutral($0.id)) }
        copy.error = error?.neutral
        copy.messages = messages.map(\.neutral)
        return copy
    }
}

extension RestoreJob {
    var neutral: RestoreJob {
        var copy = self
        copy.messages = messages.map(\.neutral)
        return copy
    }
}

extension BackupSnapshot {
    var neutral: BackupSnapshot {
        var copy = self
        copy.newest = newest.map { (LandingPageCheck.neutral($0.id), $0.details.neutral) }
        copy.lastSuccess = lastSuccess.map { (LandingPageCheck.neutral($0.id), $0.details.neutral) }
        copy.schedules = schedules.map { (LandingPageCheck.neutral($0.id), $0.schedule.neutral) }
        return copy
    }
}

extension BackupJobDetails {
    var neutral: BackupJobDetails {
        var copy = self
        copy.location = LandingPageCheck.neutral(location)
        copy.locationUser = LandingPageCheck.neutral(locationUser)
        copy.type = LandingPageCheck.neutral(type)
        copy.messages = messages.map(\.neutral)
        copy.description = description.neutral
        copy.service = LandingPageCheck.neutral(service)
        copy.operation = LandingPageCheck.neutral(operation)
        copy.progress = progress.map { Progress(total: $0.total, completed: $0.completed, message: $0.message.neutral) }
        copy.error = error?.neutral
        return copy
    }
}

extension BackupSchedule {
    var neutral: BackupSchedule {
        var copy = self
        copy.parts = parts.map(LandingPageCheck.neutral)
        copy.location = LandingPageCheck.neutral(location)
        copy.recurrenceInfo = recurrenceInfo.map { Recurrence(minute: $0.minute, hour: $0.hour, days: $0.days?.map(LandingPageCheck.neutral)) }
        return copy
    }
}

extension LocalizableMessage {
    var neutral: LocalizableMessage {
        LocalizableMessage(id: LandingPageCheck.neutral(id), defaultMessage: LandingPageCheck.neutral(defaultMessage),
                           args: args.map(LandingPageCheck.neutral), params: params?.neutral, localized: localized.map(LandingPageCheck.neutral))
    }
}

extension JSONValue {
    /// Keys stay (the page looks up `default_message` and `messages`); string values become "x".
    var neutral: JSONValue {
        switch self {
        case .string(let text): .string(LandingPageCheck.neutral(text))
        case .array(let values): .array(values.map(\.neutral))
        case .object(let fields): .object(fields.mapValues(\.neutral))
        case .null, .bool, .number: self
        }
    }
}
