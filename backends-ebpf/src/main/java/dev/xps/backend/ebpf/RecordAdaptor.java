package dev.xps.backend.ebpf;

import java.lang.reflect.RecordComponent;
import org.stringtemplate.v4.Interpreter;
import org.stringtemplate.v4.ModelAdaptor;
import org.stringtemplate.v4.ST;
import org.stringtemplate.v4.misc.STNoSuchPropertyException;

/** Lets templates read a record's components ({@code $h.name$} calls {@code h.name()}). */
final class RecordAdaptor implements ModelAdaptor<Record> {
    @Override
    public Object getProperty(Interpreter interp, ST self, Record model, Object property, String propertyName)
            throws STNoSuchPropertyException {
        for (RecordComponent c : model.getClass().getRecordComponents()) {
            if (c.getName().equals(propertyName)) {
                try {
                    return c.getAccessor().invoke(model);
                } catch (ReflectiveOperationException e) {
                    throw new STNoSuchPropertyException(e, model, propertyName);
                }
            }
        }
        throw new STNoSuchPropertyException(null, model, propertyName);
    }
}
